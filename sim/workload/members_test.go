package workload

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/checker/history"
	"github.com/orrery/orrery/node/bugs"
	"github.com/orrery/orrery/node/rsm"
	"github.com/orrery/orrery/sim"
)

func membersChanged(at time.Duration, node sim.NodeID, index uint64, ids ...uint64) sim.Observation {
	var ms []rsm.Member
	for _, id := range ids {
		learner := id >= 10 // tests name learners 10 and up
		ms = append(ms, rsm.Member{ID: id, Learner: learner})
	}
	n := rsm.MembersChanged{Index: index, Members: ms}
	return sim.Observation{At: at, Node: node, Kind: "notice", Value: n.String(), Notice: n}
}

func adminEvents(call, ret int64, typ history.Type, value string) []history.Event {
	return adminEventsBy(9, call, ret, typ, value)
}

func adminEventsBy(process int, call, ret int64, typ history.Type, value string) []history.Event {
	return []history.Event{
		{Process: process, Type: history.Invoke, F: opMember, Key: "members", Time: call},
		{Process: process, Type: typ, F: opMember, Key: "members", Value: history.Str(value), Time: ret},
	}
}

func TestCheckMembers(t *testing.T) {
	initial := table{1: false, 2: false, 3: false}
	added := membersChanged(20*ms, 1, 7, 1, 2, 3, 10)
	for _, tc := range []struct {
		name string
		obs  []sim.Observation
		hist []history.Event
		err  string
	}{
		{name: "an acknowledged add applied while it ran", obs: []sim.Observation{added},
			hist: adminEvents(int64(10*ms), int64(30*ms), history.OK, "add 10 ok 1,2,3,10L")},
		{name: "an acknowledged add that no server applied", err: "which no server applied",
			hist: adminEvents(int64(10*ms), int64(30*ms), history.OK, "add 10 ok 1,2,3,10L")},
		{name: "two changes in one step", err: "not a single change",
			obs: []sim.Observation{membersChanged(20*ms, 1, 7, 1, 2, 10, 11)}},
		{name: "servers disagree on an index", err: "applied as",
			obs: []sim.Observation{added, membersChanged(25*ms, 2, 7, 1, 2, 3, 11)}},
		{name: "a change nobody asked for", err: "asked for by no operation", obs: []sim.Observation{added}},
		{name: "a stale read of the table", err: "read the table {1,2,3}", obs: []sim.Observation{added},
			hist: adminEvents(int64(30*ms), int64(40*ms), history.OK, "members 0 ok 1,2,3")},
		{name: "a refusal that fits no table", err: "fits none", obs: nil,
			hist: adminEvents(int64(30*ms), int64(40*ms), history.Fail, "remove 2 fail not-found")},
		{name: "an unknown add may land after a read", obs: []sim.Observation{added},
			hist: append(adminEvents(int64(1*ms), int64(5*ms), history.Info, "add 10 info"),
				adminEventsBy(14, int64(6*ms), int64(8*ms), history.OK, "members 0 ok 1,2,3")...)},
		{name: "a membership entry applied with its table", obs: []sim.Observation{obs(20*ms, 1, "apply", "7 t=2 type=1 \"cc\""), added},
			hist: adminEvents(int64(10*ms), int64(30*ms), history.OK, "add 10 ok 1,2,3,10L")},
		{name: "a membership entry applied without a table", err: "n2 applied the membership entry at index 7 (incarnation 0, at 21ms) but reported no member table",
			obs:  []sim.Observation{added, obs(21*ms, 2, "apply", "7 t=2 type=1 \"cc\""), membersChanged(22*ms, 2, 7, 1, 2, 3, 10)},
			hist: adminEvents(int64(10*ms), int64(30*ms), history.OK, "add 10 ok 1,2,3,10L")},
		{name: "a removed member applies after its removal", err: "n3 applied entry 9",
			obs:  []sim.Observation{membersChanged(20*ms, 1, 7, 1, 2), obs(30*ms, 3, "apply", "9 t=2 c=1 s=1 \"x\" dup=false")},
			hist: adminEvents(int64(10*ms), int64(25*ms), history.OK, "remove 3 ok 1,2")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkMembers(sim.Result{Observations: tc.obs, History: tc.hist}, initial)
			if tc.err == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.err)
		})
	}
}

// The workload passes on its own and catches its planted membership bug within a few
// seeds (the README's hunt table records the first).
func TestMembersWorkloadFindsSnapshotBug(t *testing.T) {
	w, err := Lookup("members")
	require.NoError(t, err)
	all, err := sim.ParseFaults("all")
	require.NoError(t, err)
	run := func(set bugs.Set, seed uint64) error {
		sys, err := w.BuildSystem(Config{Bugs: set})
		require.NoError(t, err)
		res, err := sim.Run(sys, sim.Options{Seed: seed, Faults: all})
		require.NoError(t, err)
		if res.Liveness != nil {
			return res.Liveness
		}
		return sys.Invariants(res)
	}
	for seed := uint64(1); seed <= 3; seed++ {
		assert.NoError(t, run(bugs.Set{}, seed), "seed %d", seed)
	}
	assert.Error(t, run(bugs.With(rsm.BugSnapshotDropsMembers), 1), "the planted bug goes unnoticed")
}
