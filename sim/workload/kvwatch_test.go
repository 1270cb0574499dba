package workload

import (
	"math/rand/v2"
	"strings"
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
		{"a replay check failed", cat(kindObs(5, "watch-wrong", "revision 3: bad")), "watcher n5: revision 3: bad"},
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

// putEv is a put creating k at rev.
func putEv(rev int64, k, v string) kv.Event {
	return kv.Event{Type: kv.EventPut, KV: kv.KeyValue{Key: []byte(k), Value: []byte(v), ModRevision: rev, CreateRevision: rev, Version: 1}}
}

// updateEv is a put at rev of the key that prev left, with prev as its PrevKV.
func updateEv(rev int64, prev kv.Event, v string) kv.Event {
	p := prev.KV
	return kv.Event{Type: kv.EventPut, PrevKV: &p, KV: kv.KeyValue{Key: p.Key, Value: []byte(v), ModRevision: rev, CreateRevision: p.CreateRevision, Version: p.Version + 1}}
}

func deleteEv(rev int64, prev kv.Event) kv.Event {
	p := prev.KV
	return kv.Event{Type: kv.EventDelete, PrevKV: &p, KV: kv.KeyValue{Key: p.Key, ModRevision: rev}}
}

func answer(t *testing.T, w *watchingClient, op component.Op, rev int64, kvs ...kv.KeyValue) []component.Effect {
	t.Helper()
	var seq uint64
	for _, e := range w.Handle(0, component.Invoke{Op: op}) {
		if s, ok := e.(component.Send); ok {
			if req, ok := s.Msg.(rsm.Request); ok {
				seq = req.Seq
			}
		}
	}
	require.NotZero(t, seq, "the client sent no request")
	res := kv.Answer{Range: &kv.RangeResponse{Header: kv.ResponseHeader{Revision: rev}, KVs: kvs}}
	effs := w.Handle(0, component.Receive{From: 1, Msg: rsm.Reply{Client: 9, Seq: seq, Result: res.Encode()}})
	require.True(t, completedOK(effs, op.ID), "the read did not complete: %v", effs)
	return effs
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
	a := putEv(2, "k0", "a")
	b := updateEv(3, a, "b")
	assert.Empty(t, observed(push(t, w, putEv(3, "k1", "c"), b)), "revision 2 comes first")
	assert.Equal(t, []string{
		`watch: 2 put "k0" "a"`,
		`watch: 3 put "k0" "b", put "k1" "c"`,
	}, observed(push(t, w, a)))
	assert.Empty(t, observed(push(t, w, b, putEv(3, "k1", "c"))), "the same revision again")
	assert.Equal(t, []string{`watch-again: 3 put "k1" "c"`}, observed(push(t, w, putEv(3, "k1", "c"))))

	op := component.Op{ID: 7, F: "txn", Value: component.List(
		component.List(component.Str("k1"), component.Str("e")), component.List(component.Str("k0"), component.Str("d")))}
	w.Handle(0, component.Invoke{Op: op})
	res := kv.Result{Response: kv.Response{Txn: &kv.TxnResponse{Succeeded: true, Header: kv.ResponseHeader{Revision: 4}}}}
	effs := w.Handle(0, component.Receive{From: 1, Msg: rsm.Reply{Client: 9, Seq: 1, Result: kv.EncodeReply(res)}})
	require.Contains(t, effs, component.Effect(component.Complete{OpID: 7, Outcome: component.OK, Value: op.Value}))
	assert.Equal(t, []string{`txn: 4 put "k0" "d", put "k1" "e"`}, observed(effs))
}

// Each client replays its stream and holds it to the store: PrevKV, versions and create
// revisions follow from what came before, and a read at revision R finds what the replay
// holds at R, whether the read completes before or after the stream gets there. These are
// the faults agreement between watchers cannot see: a store that sends every watcher the
// same wrong stream.
func TestWatchReplayChecks(t *testing.T) {
	a := putEv(2, "k0", "a")
	b := updateEv(3, a, "b")
	get := component.Op{ID: 5, F: "get", Key: "k0", Value: component.Null()}
	mget := component.Op{ID: 6, F: "mget", Value: component.List(component.Str("k0"), component.Str("k1"))}
	newClient := func() *watchingClient {
		return newWatchingClient(9, []component.NodeID{1, 2, 3}, rand.New(rand.NewPCG(1, 2)), false)
	}
	wrongs := func(effs []component.Effect) []string {
		var out []string
		for _, o := range observed(effs) {
			if kind, rest, _ := strings.Cut(o, ": "); kind == "watch-wrong" {
				out = append(out, rest)
			}
		}
		return out
	}

	t.Run("a consistent stream and reads", func(t *testing.T) {
		w := newClient()
		var all []component.Effect
		all = append(all, answer(t, w, get, 3, b.KV)...) // before the stream reaches 3
		all = append(all, push(t, w, a, b, deleteEv(4, b), putEv(5, "k1", "x"))...)
		all = append(all, answer(t, w, get, 2, a.KV)...)
		all = append(all, answer(t, w, get, 4)...)
		all = append(all, answer(t, w, mget, 5, putEv(5, "k1", "x").KV)...)
		assert.Empty(t, wrongs(all))
	})
	// etcd sends no PrevKV for the first revision after a compaction a stream was replayed
	// from: that is allowed only once a compaction reached the revision.
	t.Run("an update without its prevKV", func(t *testing.T) {
		bad := b
		bad.PrevKV = nil
		var missing []sim.Observation
		for _, o := range observed(push(t, newClient(), a, bad)) {
			if kind, rest, _ := strings.Cut(o, ": "); kind == "prevkv-missing" {
				missing = append(missing, sim.Observation{Node: 9, Kind: kind, Value: rest})
			}
		}
		require.Len(t, missing, 1)
		err := checkWatches(cat(missing))
		require.Error(t, err)
		assert.Contains(t, err.Error(), `watcher n9: revision 3 put "k0" "b" carries no prevKV`)
		assert.NoError(t, checkWatches(cat(kindObs(5, "compact-sent", "3"), missing)))
		assert.Error(t, checkWatches(cat(kindObs(5, "compact-sent", "2"), missing)))
	})
	for _, tc := range []struct {
		name string
		do   func(w *watchingClient) []component.Effect
		want string
	}{
		{"a version that skips", func(w *watchingClient) []component.Effect {
			bad := b
			bad.KV.Version = 3
			return push(t, w, a, bad)
		}, `has version 3, create revision 2 after "k0"="a"`},
		{"a delete of a key never created", func(w *watchingClient) []component.Effect {
			bad := deleteEv(2, a)
			bad.PrevKV = nil
			return push(t, w, bad)
		}, `deletes a key the stream never created`},
		{"a read the stream disagrees with, checked when the stream gets there", func(w *watchingClient) []component.Effect {
			effs := answer(t, w, get, 3, kv.KeyValue{Key: []byte("k0"), Value: []byte("z"), ModRevision: 3, CreateRevision: 2, Version: 2})
			require.Empty(t, wrongs(effs), "the stream has not reached revision 3 yet")
			return push(t, w, a, b)
		}, `a read at revision 3 found "k0"="z"`},
		{"a delete the stream missed", func(w *watchingClient) []component.Effect {
			push(t, w, a, b, putEv(4, "k1", "x"))
			return answer(t, w, mget, 4, putEv(4, "k1", "x").KV)
		}, `holds "k0"="b" (mod 3, create 2, version 2, lease 0), "k1"="x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := wrongs(tc.do(newClient()))
			require.Len(t, got, 1)
			assert.Contains(t, got[0], tc.want)
		})
	}
}
