package clock

import wall "time"

// A renamed import does not hide the function: the message names it as time.Now.
func renamed() wall.Time { return wall.Now() } // want `time\.Now reads the wall clock`

func renamedSleep(d wall.Duration) { wall.Sleep(d) } // want `time\.Sleep blocks`
