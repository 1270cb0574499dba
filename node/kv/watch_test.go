package kv

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func watch(t *testing.T, s *Store, r WatchRequest) int64 {
	t.Helper()
	id, err := s.Watches().Watch(r)
	require.NoError(t, err)
	return id
}

// eventsOf flattens the events of id's responses into "type key@rev" strings.
func eventsOf(resps []WatchResponse, id int64) []string {
	out := []string{}
	for _, r := range resps {
		if r.WatchID != id {
			continue
		}
		for _, ev := range r.Events {
			typ := "put"
			if ev.Type == EventDelete {
				typ = "del"
			}
			out = append(out, fmt.Sprintf("%s %s@%d", typ, ev.KV.Key, ev.KV.ModRevision))
		}
	}
	return out
}

func TestWatchReplayAndLive(t *testing.T) {
	s := New(Config{})
	mustPut(t, s, "a", "1")                                                                    // 2
	mustPut(t, s, "b", "1")                                                                    // 3
	mustApply(t, s, txnCmd(TxnRequest{Success: []RequestOp{opPut("a", "2"), opDel("b", "")}})) // 4
	h := s.Watches()
	old := watch(t, s, WatchRequest{Key: b("a"), RangeEnd: b("c"), StartRevision: 3})
	live := watch(t, s, WatchRequest{Key: b("a")})
	future := watch(t, s, WatchRequest{Key: b("a"), RangeEnd: []byte{0}, StartRevision: 6})
	resps := h.Take()
	assert.Equal(t, []string{"put b@3", "put a@4", "del b@4"}, eventsOf(resps, old))
	assert.Empty(t, eventsOf(resps, live))
	assert.Empty(t, h.Take(), "nothing is delivered twice")

	mustPut(t, s, "a", "3") // 5
	mustPut(t, s, "z", "1") // 6
	resps = h.Take()
	assert.Equal(t, []string{"put a@5"}, eventsOf(resps, old))
	assert.Equal(t, []string{"put a@5"}, eventsOf(resps, live))
	assert.Equal(t, []string{"put z@6"}, eventsOf(resps, future))
	for _, r := range resps {
		assert.Equal(t, int64(6), r.Header.Revision)
	}
	// Responses come out by watcher ID, one per watcher here.
	require.Len(t, resps, 3)
	assert.Equal(t, []int64{old, live, future}, []int64{resps[0].WatchID, resps[1].WatchID, resps[2].WatchID})
}

func TestWatchFiltersAndPrevKV(t *testing.T) {
	s := New(Config{})
	mustPut(t, s, "k1", "a") // 2
	noPut := watch(t, s, WatchRequest{Key: b("k"), RangeEnd: Prefix(b("k")), NoPut: true})
	noDel := watch(t, s, WatchRequest{Key: b("k"), RangeEnd: Prefix(b("k")), NoDelete: true})
	prev := watch(t, s, WatchRequest{Key: b("k"), RangeEnd: Prefix(b("k")), PrevKV: true})
	mustPut(t, s, "k1", "b")          // 3
	mustPut(t, s, "k2", "a")          // 4
	mustPut(t, s, "other", "a")       // 5
	mustApply(t, s, delCmd("k1", "")) // 6
	resps := s.Watches().Take()
	assert.Equal(t, []string{"del k1@6"}, eventsOf(resps, noPut))
	assert.Equal(t, []string{"put k1@3", "put k2@4"}, eventsOf(resps, noDel))
	var evs []Event
	for _, r := range resps {
		if r.WatchID == prev {
			evs = append(evs, r.Events...)
		}
	}
	require.Len(t, evs, 3)
	assert.Equal(t, "a", string(evs[0].PrevKV.Value), "update carries the previous value")
	assert.Nil(t, evs[1].PrevKV, "a create has no previous value")
	assert.Equal(t, "b", string(evs[2].PrevKV.Value), "a delete carries the deleted value")
	assert.Equal(t, int64(3), evs[2].PrevKV.ModRevision)
}

func TestWatchCompacted(t *testing.T) {
	s := New(Config{})
	for i := range 5 {
		mustPut(t, s, "a", fmt.Sprint(i)) // 2..6
	}
	mustApply(t, s, Command{Compaction: &CompactionRequest{Revision: 4}})
	h := s.Watches()
	gone := watch(t, s, WatchRequest{Key: b("a"), StartRevision: 3})
	atCompaction := watch(t, s, WatchRequest{Key: b("a"), StartRevision: 4})
	resps := h.Take()
	require.Equal(t, WatchResponse{WatchID: gone, Header: ResponseHeader{Revision: 6}, CompactRevision: 4, Canceled: true}, resps[0])
	assert.Equal(t, []string{"put a@4", "put a@5", "put a@6"}, eventsOf(resps, atCompaction))
	assert.Equal(t, 1, h.Len(), "the compacted watcher is cancelled")

	// A watcher the driver lets fall behind a compaction is cancelled the same way.
	mustPut(t, s, "a", "x") // 7
	mustPut(t, s, "a", "y") // 8
	mustApply(t, s, Command{Compaction: &CompactionRequest{Revision: 8}})
	resps = h.Take()
	require.Len(t, resps, 1)
	assert.Equal(t, int64(8), resps[0].CompactRevision)
	assert.Equal(t, 0, h.Len())
}

func TestWatchProgress(t *testing.T) {
	s := New(Config{})
	h := s.Watches()
	w := watch(t, s, WatchRequest{Key: b("a"), ProgressNotify: true})
	quiet := watch(t, s, WatchRequest{Key: b("b")})
	mustPut(t, s, "a", "1") // 2
	require.NoError(t, h.RequestProgress(quiet))
	resps := h.Take()
	require.Len(t, resps, 2)
	assert.Equal(t, []string{"put a@2"}, eventsOf(resps, w))
	assert.Equal(t, WatchResponse{WatchID: quiet, Header: ResponseHeader{Revision: 2}}, resps[1])

	// The events a watcher is owed come before its progress notification.
	mustPut(t, s, "a", "2") // 3
	require.NoError(t, h.RequestProgress(w))
	resps = h.Take()
	require.Len(t, resps, 2)
	assert.Len(t, resps[0].Events, 1)
	assert.Equal(t, WatchResponse{WatchID: w, Header: ResponseHeader{Revision: 3}}, resps[1])

	h.ProgressTick() // w had events since the last tick: nothing owed
	assert.Empty(t, h.Take())
	h.ProgressTick() // idle for a whole period
	assert.Equal(t, []WatchResponse{{WatchID: w, Header: ResponseHeader{Revision: 3}}}, h.Take())
	assert.ErrorIs(t, h.RequestProgress(99), ErrWatcherNotExist)
}

func TestWatchCreateAndCancel(t *testing.T) {
	s := New(Config{})
	h := s.Watches()
	a := watch(t, s, WatchRequest{Key: b("a")})
	assert.Equal(t, int64(0), a, "automatic IDs start at 0 like etcd's")
	c := watch(t, s, WatchRequest{Key: b("a"), WatchID: 1})
	assert.Equal(t, int64(1), c)
	_, err := h.Watch(WatchRequest{Key: b("a"), WatchID: 1})
	assert.ErrorIs(t, err, ErrWatcherDuplicateID)
	assert.Equal(t, int64(2), watch(t, s, WatchRequest{Key: b("a")}), "automatic IDs skip taken ones")
	_, err = h.Watch(WatchRequest{Key: b("b"), RangeEnd: b("a")})
	assert.ErrorIs(t, err, ErrEmptyWatcherRange)

	mustPut(t, s, "a", "1")
	require.NoError(t, h.Cancel(a))
	assert.ErrorIs(t, h.Cancel(a), ErrWatcherNotExist)
	resps := h.Take()
	assert.Empty(t, eventsOf(resps, a), "a cancelled watcher gets nothing more")
	assert.Len(t, resps, 2)
}

func TestWatchBatchesKeepRevisionsWhole(t *testing.T) {
	s := New(Config{})
	var ops []RequestOp
	for i := range 30 {
		ops = append(ops, opPut(fmt.Sprintf("k%02d", i), "v"))
	}
	for range maxEventsPerResponse/30 + 5 {
		mustApply(t, s, txnCmd(TxnRequest{Success: ops}))
	}
	w := watch(t, s, WatchRequest{Key: b("k"), RangeEnd: Prefix(b("k")), StartRevision: 1})
	resps := s.Watches().Take()
	require.Greater(t, len(resps), 1, "a long replay is split")
	for _, r := range resps {
		assert.Equal(t, w, r.WatchID)
		assert.Zero(t, len(r.Events)%30, "a revision is never split")
	}
}
