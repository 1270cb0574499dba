package random

import mrand "math/rand/v2"

func renamed() int { return mrand.IntN(3) } // want `rand\.IntN uses the global random source`

func renamedSeeded() *mrand.Rand { return mrand.New(mrand.NewPCG(1, 2)) }
