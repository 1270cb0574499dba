package randv1

import "math/rand" // want `importing "math/rand" has a global random source; use math/rand/v2`

func seed() { rand.Seed(1) } // want `rand\.Seed reseeds the global random source`

func global() int { return rand.Intn(3) } // want `rand\.Intn uses the global random source`

// The constructors themselves are no global source; the import is what is reported.
func seeded() *rand.Rand { return rand.New(rand.NewSource(1)) }
