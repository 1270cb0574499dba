package random

import "math/rand/v2"

func globals() {
	_ = rand.IntN(10)                  // want `rand\.IntN uses the global random source; draw from the seeded \*rand\.Rand`
	_ = rand.Int64()                   // want `rand\.Int64 uses the global random source`
	_ = rand.Float64()                 // want `rand\.Float64 uses the global random source`
	_ = rand.Perm(3)                   // want `rand\.Perm uses the global random source`
	_ = rand.N(10)                     // want `rand\.N uses the global random source`
	rand.Shuffle(3, func(i, j int) {}) // want `rand\.Shuffle uses the global random source`
}

// A method value of the global source is as bad as a call.
var intn = rand.IntN // want `rand\.IntN uses the global random source`

// The constructors and the methods of a seeded *rand.Rand are what deterministic code uses.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 2)) }

func draw(r *rand.Rand) int {
	r.Shuffle(3, func(i, j int) {})
	return r.IntN(10) + int(r.Int64()) + r.Perm(3)[0]
}

func chacha() *rand.Rand { return rand.New(rand.NewChaCha8([32]byte{})) }

func zipf(r *rand.Rand) uint64 { return rand.NewZipf(r, 1.5, 1, 100).Uint64() }
