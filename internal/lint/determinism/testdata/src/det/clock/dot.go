package clock

import . "time"

func dotted() Time { return Now() } // want `time\.Now reads the wall clock`
