package raft

import (
	"flag"
	"math/rand/v2"
	"testing"
)

var (
	flagSeeds = flag.Int("raft.seeds", 0, "number of seeds for the randomized tests (0 = default)")
	flagSteps = flag.Int("raft.steps", 0, "random steps per seed (0 = default)")
	flagSeed  = flag.Int("raft.seed", -1, "run only this seed (replay a failure)")
)

func simSeeds(t *testing.T) (int, int) {
	if *flagSeeds > 0 {
		return *flagSeeds, max(*flagSteps, 3000)
	}
	if testing.Short() {
		return 40, 1500
	}
	return 500, 3000
}

// TestRandomizedSafety runs many seeded worlds and checks election safety, log matching,
// leader completeness, stability of committed entries, read linearizability and, after
// healing, convergence.
func TestRandomizedSafety(t *testing.T) {
	seeds, steps := simSeeds(t)
	first := uint64(0)
	if *flagSeed >= 0 {
		first, seeds = uint64(*flagSeed), 1
	}
	for seed := first; seed < first+uint64(seeds); seed++ {
		opts := drawOpts(rand.New(rand.NewPCG(seed, 1)), steps)
		if err := newSim(seed, opts).run(); err != nil {
			t.Fatalf("seed %d (%+v): %v\nreplay: go test ./node/raft -run TestRandomizedSafety -raft.seed=%d", seed, opts, err, seed)
		}
	}
}
