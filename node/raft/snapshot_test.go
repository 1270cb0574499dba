package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSnapshotLostAndReported: a lost snapshot is resent after the driver reports the
// failure, and also, without any report, after an election timeout of heartbeats.
func TestSnapshotLostAndReported(t *testing.T) {
	for _, report := range []bool{true, false} {
		e := newEnv(t)
		cs := ConfState{Voters: []uint64{1, 2, 3}}
		for id := uint64(1); id <= 3; id++ {
			require.NoError(t, e.addNode(id, cs, 0, Config{ElectionTick: 10, HeartbeatTick: 1}))
		}
		require.NoError(t, e.node(1).Campaign())
		e.stabilize()
		e.isolate(3)
		for _, v := range []string{"a", "b", "c"} {
			require.NoError(t, e.node(1).Propose([]byte(v)))
		}
		e.stabilize(1, 2)
		require.NoError(t, e.compact(1, 4))
		clear(e.cut)

		sent := func(drop bool) int { // run until the leader sends a snapshot
			for tick := range 30 {
				if tick%3 == 0 {
					e.node(1).Tick()
				}
				for _, id := range e.ids {
					e.processReady(id)
				}
				for i, m := range e.msgs {
					if m.Type == MsgSnap {
						if drop {
							e.msgs = append(e.msgs[:i], e.msgs[i+1:]...)
						}
						return 1
					}
				}
				e.deliver()
			}
			return 0
		}
		require.Equal(t, 1, sent(true), "first snapshot (lost)")
		assert.Equal(t, StateSnapshot, e.node(1).Status().Progress[3].State)
		if report {
			e.node(1).ReportSnapshot(3, true)
			assert.Equal(t, StateProbe, e.node(1).Status().Progress[3].State)
		}
		require.Equal(t, 1, sent(false), "snapshot resent (report=%v)", report)
		e.stabilize()
		for range 3 {
			e.node(1).Tick()
			e.stabilize()
		}
		st := e.node(3).Status()
		assert.Equal(t, uint64(4), st.HardState.Commit, "report=%v", report)
		assert.Equal(t, StateReplicate, e.node(1).Status().Progress[3].State)
	}
}

func TestReportUnreachable(t *testing.T) {
	e := newEnv(t)
	cs := ConfState{Voters: []uint64{1, 2}}
	for id := uint64(1); id <= 2; id++ {
		require.NoError(t, e.addNode(id, cs, 0, Config{}))
	}
	require.NoError(t, e.node(1).Campaign())
	e.stabilize()
	require.Equal(t, StateReplicate, e.node(1).Status().Progress[2].State)
	e.node(1).ReportUnreachable(2)
	assert.Equal(t, StateProbe, e.node(1).Status().Progress[2].State)
}
