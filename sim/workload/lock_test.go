package workload

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/sim"
)

func obs(at time.Duration, node sim.NodeID, kind, value string) sim.Observation {
	return sim.Observation{At: at, Node: node, Kind: kind, Value: value}
}

const ms = time.Millisecond

func TestCheckLock(t *testing.T) {
	held := []sim.Observation{ // token 5 held 10..30ms, token 9 from 40ms
		obs(10*ms, 4, "acquired", "token=5 lease=1"),
		obs(20*ms, 4, "fenced", "token=5 rev=6"),
		obs(30*ms, 4, "releasing", "token=5"),
		obs(35*ms, 4, "released", "token=5"),
		obs(40*ms, 5, "acquired", "token=9 lease=2"),
		obs(50*ms, 5, "fenced", "token=9 rev=11"),
	}
	for _, tc := range []struct {
		name  string
		obs   []sim.Observation
		jumps []sim.FaultWindow
		drift float64
		err   string
	}{
		{name: "holders one after the other", obs: held},
		{name: "a write with an older token after a newer one", err: "fencing: write by n4 at revision 12 has token 5",
			obs: append(held[:len(held):len(held)], obs(60*ms, 4, "fenced", "token=5 rev=12"))},
		{name: "acquired before the previous holder released", err: "exclusion: token 9 was acquired at 25ms",
			obs: []sim.Observation{
				obs(10*ms, 4, "acquired", "token=5 lease=1"), obs(25*ms, 5, "acquired", "token=9 lease=2"),
				obs(30*ms, 4, "releasing", "token=5"), obs(35*ms, 4, "released", "token=5"),
			}},
		{name: "overlap is allowed when the release found the lock lost",
			obs: []sim.Observation{
				obs(10*ms, 4, "acquired", "token=5 lease=1"), obs(25*ms, 5, "acquired", "token=9 lease=2"),
				obs(30*ms, 4, "releasing", "token=5"),
			}},
		{name: "a lease expired before its keep-alive's promise", err: "lease 1 expired at 1.5s, but a keep-alive sent at 1s promised 2s",
			obs: []sim.Observation{obs(1010*ms, 4, "keepalive", "1 sent=1000000000 ttl=2"), obs(1500*ms, 2, "lease-expired", "1 rev=7")}},
		{name: "a lease expired just after its promise, less the election margin",
			obs: []sim.Observation{obs(1010*ms, 4, "keepalive", "1 sent=1000000000 ttl=2"), obs(2950*ms, 2, "lease-expired", "1 rev=7")}},
		{name: "drift and clock jumps widen the slack", drift: 0.05,
			jumps: []sim.FaultWindow{{Start: 1200 * ms, End: 1200 * ms, Kind: sim.FaultClock, Detail: "n2 clock +1s"}},
			obs:   []sim.Observation{obs(1010*ms, 4, "keepalive", "1 sent=1000000000 ttl=2"), obs(1750*ms, 2, "lease-expired", "1 rev=7")}},
		{name: "a jump before the keep-alive does not count", drift: 0.05, err: "lease 1 expired",
			jumps: []sim.FaultWindow{{Start: 900 * ms, End: 900 * ms, Kind: sim.FaultClock, Detail: "n2 clock +1s"}},
			obs:   []sim.Observation{obs(1010*ms, 4, "keepalive", "1 sent=1000000000 ttl=2"), obs(1750*ms, 2, "lease-expired", "1 rev=7")}},
		{name: "malformed facts are reported", err: "malformed fenced observation",
			obs: []sim.Observation{obs(1, 4, "fenced", "token=x")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := sim.Result{Observations: tc.obs, Faults: tc.jumps, Profile: sim.Profile{ClockDriftMax: tc.drift}}
			err := checkLock(res)
			if tc.err == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
		})
	}
}

// Clients take the lock in turn: a short fault-free run acquires, writes and releases,
// and its facts pass the check.
func TestLockWorkloadTakesTurns(t *testing.T) {
	sys, err := lockWorkload().BuildSystem(Config{})
	require.NoError(t, err)
	res, err := sim.Run(sys, sim.Options{Seed: 3, Ops: 60})
	require.NoError(t, err)
	require.NoError(t, res.Liveness)
	require.NoError(t, checkLock(res))
	n := map[string]int{}
	for _, o := range res.Observations {
		n[o.Kind]++
	}
	assert.Greater(t, n["acquired"], 10)
	assert.Greater(t, n["fenced"], 10)
	assert.Equal(t, n["acquired"], n["released"], "every holder releases with its key in place")
	var ok int
	for _, e := range res.History {
		if e.F == "acquire" && e.Type == "ok" {
			ok++
		}
	}
	assert.Greater(t, ok, 5)
}
