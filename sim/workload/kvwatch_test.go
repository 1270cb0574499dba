package workload

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/kv"
	"github.com/orrery/orrery/node/rsm"
	"github.com/orrery/orrery/sim"
)

func kindObs(node sim.NodeID, kind string, lines ...string) []sim.Observation {
	var out []sim.Observation
	for _, l := range lines {
		out = append(out, sim.Observation{Node: node, Kind: kind, Value: l})
	}
	return out
}

func watchObs(node sim.NodeID, lines ...string) []sim.Observation {
	return kindObs(node, "watch", lines...)
}

func cat(parts ...[]sim.Observation) sim.Result {
	var r sim.Result
	for _, p := range parts {
		r.Observations = append(r.Observations, p...)
	}
	return r
}

func TestCheckWatches(t *testing.T) {
	txn := `3 put "k0" "b", put "k1" "c"`
	for _, tc := range []struct {
		name string
		res  sim.Result
		err  string // "" for a pass
	}{
		{"in order, agreeing", cat(watchObs(5, `2 put "k0" "a"`, txn, `4 delete "k0"`), watchObs(6, `2 put "k0" "a"`, txn)), ""},
		{"gap", cat(watchObs(5, `2 put "k0" "a"`, `4 delete "k0"`)), "revisions 3..3 skipped"},
		{"duplicate", cat(watchObs(5, `2 put "k0" "a"`, `2 put "k0" "a"`)), "out of order or duplicated"},
		{"a watch from the start begins at revision 2", cat(watchObs(5, `3 put "k0" "a"`)), "revisions 2..2 skipped"},
		{"disagreement", cat(watchObs(5, `2 put "k0" "a"`), watchObs(6, `2 put "k0" "b"`)), "revision 2 seen as"},
		{"half a revision", cat(watchObs(5, `2 put "k0" "a"`, txn), watchObs(6, `2 put "k0" "a"`, `3 put "k1" "c"`)), "revision 3 seen as"},
		{"a revision delivered again differently", cat(watchObs(5, `2 put "k0" "a"`, txn), kindObs(5, "watch-again", `3 put "k1" "c"`)),
			`revision 3 delivered again to watcher n5 as [3 put "k1" "c"], first as [` + txn + `]`},
		{"a txn as its revision", cat(watchObs(5, `2 put "k0" "a"`, txn), kindObs(6, "txn", txn)), ""},
		{"a txn no watcher reached", cat(watchObs(5, `2 put "k0" "a"`), kindObs(6, "txn", txn)), ""},
		{"a txn split over revisions", cat(watchObs(5, `2 put "k0" "a"`, `3 put "k0" "b"`, `4 put "k1" "c"`), kindObs(6, "txn", `4 put "k0" "b", put "k1" "c"`)),
			`txn of client n6 committed at revision 4 as [4 put "k0" "b", put "k1" "c"], but watchers saw [4 put "k1" "c"]`},
		{"undecodable", cat(kindObs(5, "watch-error", "bad tag")), "undecodable watch response"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkWatches(tc.res)
			if tc.err == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.err)
		})
	}
}

func push(t *testing.T, w *watchingClient, evs ...kv.Event) []component.Effect {
	t.Helper()
	data := kv.EncodeWatchResponse(kv.WatchResponse{Events: evs})
	return w.Handle(0, component.Receive{From: 1, Msg: rsm.Pushed{Data: data}})
}

func putEv(rev int64, k, v string) kv.Event {
	return kv.Event{Type: kv.EventPut, KV: kv.KeyValue{Key: []byte(k), Value: []byte(v), ModRevision: rev}}
}

func observed(effs []component.Effect) []string {
	var out []string
	for _, e := range effs {
		if o, ok := e.(component.Observe); ok {
			out = append(out, o.Kind+": "+o.Value)
		}
	}
	return out
}

// The watching client releases whole revisions in order, holds back what comes early,
// drops what comes again unless it differs, and observes the revision of its txns.
func TestWatchingClient(t *testing.T) {
	w := newWatchingClient(9, []component.NodeID{1, 2, 3}, rand.New(rand.NewPCG(1, 2)), false)
	assert.Empty(t, observed(push(t, w, putEv(3, "k1", "c"), putEv(3, "k0", "b"))), "revision 2 comes first")
	assert.Equal(t, []string{
		`watch: 2 put "k0" "a"`,
		`watch: 3 put "k0" "b", put "k1" "c"`,
	}, observed(push(t, w, putEv(2, "k0", "a"))))
	assert.Empty(t, observed(push(t, w, putEv(3, "k0", "b"), putEv(3, "k1", "c"))), "the same revision again")
	assert.Equal(t, []string{`watch-again: 3 put "k1" "c"`}, observed(push(t, w, putEv(3, "k1", "c"))))

	op := component.Op{ID: 7, F: "txn", Value: component.List(
		component.List(component.Str("k1"), component.Str("e")), component.List(component.Str("k0"), component.Str("d")))}
	w.Handle(0, component.Invoke{Op: op})
	res := kv.Result{Response: kv.Response{Txn: &kv.TxnResponse{Succeeded: true, Header: kv.ResponseHeader{Revision: 4}}}}
	effs := w.Handle(0, component.Receive{From: 1, Msg: rsm.Reply{Client: 9, Seq: 1, Result: kv.EncodeReply(res)}})
	require.Contains(t, effs, component.Effect(component.Complete{OpID: 7, Outcome: component.OK, Value: op.Value}))
	assert.Equal(t, []string{`txn: 4 put "k0" "d", put "k1" "e"`}, observed(effs))
}
