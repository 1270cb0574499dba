package workload

import (
	"testing"

	"github.com/orrery/orrery/sim"
	"github.com/stretchr/testify/require"
)

func TestRegisterSmoke(t *testing.T) {
	w, err := Lookup("register")
	require.NoError(t, err)
	sys, err := w.BuildSystem(Config{})
	require.NoError(t, err)
	fs, _ := sim.ParseFaults("all")
	for seed := uint64(1); seed <= 5; seed++ {
		res, err := sim.Run(sys, sim.Options{Seed: seed, Faults: fs})
		require.NoError(t, err)
		t.Logf("seed %d: %s events=%d sim=%v hist=%d live=%v hash=%s", seed, res.Profile, res.Events, res.SimTime, len(res.History), res.Liveness, res.TraceHash[:12])
	}
}
