package cryptorand

import crand "crypto/rand" // want `importing "crypto/rand" reads the OS entropy source`

func token() string { return crand.Text() }
