package podsim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/sim"
)

// TestManagerAgainstFakeRuntime runs the pod Manager through crashes, lost messages and
// failed syncs, and checks every run against the fake runtime's truth.
func TestManagerAgainstFakeRuntime(t *testing.T) {
	sys := System(3, 100*time.Millisecond)
	faults, err := sim.ParseFaults("all")
	require.NoError(t, err)
	seeds := uint64(60)
	if testing.Short() {
		seeds = 10
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		res, err := sim.Run(sys, sim.Options{Seed: seed, Ops: 150, Faults: faults})
		require.NoError(t, err)
		require.NoError(t, res.Liveness, "seed %d", seed)
		require.NoError(t, sys.Invariants(res), "seed %d (replay: go test ./sim/podsim -run TestManagerAgainstFakeRuntime)", seed)
	}
}

func TestSameSeedSameTrace(t *testing.T) {
	sys := System(2, 50*time.Millisecond)
	faults, _ := sim.ParseFaults("all")
	a, err := sim.Run(sys, sim.Options{Seed: 7, Ops: 80, Faults: faults})
	require.NoError(t, err)
	b, err := sim.Run(sys, sim.Options{Seed: 7, Ops: 80, Faults: faults})
	require.NoError(t, err)
	require.Equal(t, a.TraceHash, b.TraceHash)
}
