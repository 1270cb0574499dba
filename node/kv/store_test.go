package kv

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRevisionsAndVersions(t *testing.T) {
	s := New(Config{})
	assert.Equal(t, int64(1), s.Rev(), "an empty store is at revision 1")

	res := mustPut(t, s, "a", "1")
	assert.Equal(t, int64(2), res.Revision)
	assert.Equal(t, int64(2), res.Put.Header.Revision)
	assert.Equal(t, []Event{{Type: EventPut, KV: KeyValue{Key: b("a"), CreateRevision: 2, ModRevision: 2, Version: 1, Value: b("1")}}}, res.Events)

	mustPut(t, s, "a", "2")
	kv := getKV(t, s, "a")
	assert.Equal(t, KeyValue{Key: b("a"), CreateRevision: 2, ModRevision: 3, Version: 2, Value: b("2")}, *kv)

	res = mustApply(t, s, delCmd("a", ""))
	assert.Equal(t, int64(1), res.DeleteRange.Deleted)
	assert.Equal(t, int64(4), res.Revision)
	assert.Equal(t, []Event{{Type: EventDelete, KV: KeyValue{Key: b("a"), ModRevision: 4}}}, res.Events)
	assert.Nil(t, getKV(t, s, "a"))

	mustPut(t, s, "a", "3")
	kv = getKV(t, s, "a")
	assert.Equal(t, KeyValue{Key: b("a"), CreateRevision: 5, ModRevision: 5, Version: 1, Value: b("3")}, *kv, "delete resets version and create revision")

	// Deleting nothing does not consume a revision.
	res = mustApply(t, s, delCmd("zz", ""))
	assert.Equal(t, int64(0), res.DeleteRange.Deleted)
	assert.Equal(t, int64(5), res.Revision)
	assert.Equal(t, int64(5), res.DeleteRange.Header.Revision)
	assert.Empty(t, res.Events)
}

func TestReadAtRevision(t *testing.T) {
	s := New(Config{})
	mustPut(t, s, "a", "1")          // 2
	mustPut(t, s, "a", "2")          // 3
	mustApply(t, s, delCmd("a", "")) // 4
	mustPut(t, s, "b", "1")          // 5
	for _, tc := range []struct {
		rev  int64
		want []string
		val  string
	}{
		{1, []string{}, ""},
		{2, []string{"a"}, "1"},
		{3, []string{"a"}, "2"},
		{4, []string{}, ""},
		{5, []string{"b"}, "1"},
	} {
		resp, err := s.Range(RangeRequest{Key: b("a"), RangeEnd: b("c"), Revision: tc.rev})
		require.NoError(t, err)
		assert.Equal(t, tc.want, kvKeys(resp.KVs), "rev %d", tc.rev)
		assert.Equal(t, int64(5), resp.Header.Revision, "the header carries the current revision")
		if tc.val != "" {
			assert.Equal(t, tc.val, string(resp.KVs[0].Value))
		}
	}
	_, err := s.Range(RangeRequest{Key: b("a"), Revision: 6})
	assert.ErrorIs(t, err, ErrFutureRev)
}

func seedRange(t *testing.T) *Store {
	s := New(Config{})
	// key: value, puts
	mustPut(t, s, "c", "3")  // 2
	mustPut(t, s, "a", "9")  // 3
	mustPut(t, s, "b", "1")  // 4
	mustPut(t, s, "a", "5")  // 5
	mustPut(t, s, "d", "2")  // 6
	mustPut(t, s, "b2", "7") // 7
	mustPut(t, s, "a", "4")  // 8
	return s
}

func TestRange(t *testing.T) {
	s := seedRange(t)
	for _, tc := range []struct {
		name  string
		req   RangeRequest
		keys  []string
		more  bool
		count int64
	}{
		{"single", RangeRequest{Key: b("b")}, []string{"b"}, false, 1},
		{"single missing", RangeRequest{Key: b("bb")}, []string{}, false, 0},
		{"range", RangeRequest{Key: b("a"), RangeEnd: b("c")}, []string{"a", "b", "b2"}, false, 3},
		{"prefix", RangeRequest{Key: b("b"), RangeEnd: Prefix(b("b"))}, []string{"b", "b2"}, false, 2},
		{"from key", RangeRequest{Key: b("b2"), RangeEnd: []byte{0}}, []string{"b2", "c", "d"}, false, 3},
		{"all", RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}}, []string{"a", "b", "b2", "c", "d"}, false, 5},
		{"empty range", RangeRequest{Key: b("c"), RangeEnd: b("a")}, []string{}, false, 0},
		{"limit", RangeRequest{Key: b("a"), RangeEnd: []byte{0}, Limit: 2}, []string{"a", "b"}, true, 5},
		{"limit exact", RangeRequest{Key: b("a"), RangeEnd: []byte{0}, Limit: 5}, []string{"a", "b", "b2", "c", "d"}, false, 5},
		{"count only", RangeRequest{Key: b("a"), RangeEnd: []byte{0}, CountOnly: true}, []string{}, false, 5},
		{"sort key desc", RangeRequest{Key: b("a"), RangeEnd: []byte{0}, SortOrder: SortDescend}, []string{"d", "c", "b2", "b", "a"}, false, 5},
		{"sort value asc", RangeRequest{Key: b("a"), RangeEnd: []byte{0}, SortTarget: SortByValue}, []string{"b", "d", "c", "a", "b2"}, false, 5},
		{"sort mod desc limit", RangeRequest{Key: b("a"), RangeEnd: []byte{0}, SortTarget: SortByMod, SortOrder: SortDescend, Limit: 2}, []string{"a", "b2"}, true, 5},
		{"sort create asc", RangeRequest{Key: b("a"), RangeEnd: []byte{0}, SortTarget: SortByCreate, SortOrder: SortAscend}, []string{"c", "a", "b", "d", "b2"}, false, 5},
		{"sort version desc", RangeRequest{Key: b("a"), RangeEnd: []byte{0}, SortTarget: SortByVersion, SortOrder: SortDescend}, []string{"a", "b", "b2", "c", "d"}, false, 5},
		{"min mod", RangeRequest{Key: b("a"), RangeEnd: []byte{0}, MinModRevision: 6}, []string{"a", "b2", "d"}, false, 5},
		{"max mod", RangeRequest{Key: b("a"), RangeEnd: []byte{0}, MaxModRevision: 4}, []string{"b", "c"}, false, 5},
		{"min create", RangeRequest{Key: b("a"), RangeEnd: []byte{0}, MinCreateRevision: 4}, []string{"b", "b2", "d"}, false, 5},
		{"max create", RangeRequest{Key: b("a"), RangeEnd: []byte{0}, MaxCreateRevision: 3}, []string{"a", "c"}, false, 5},
		{"filter then limit", RangeRequest{Key: b("a"), RangeEnd: []byte{0}, MinModRevision: 6, Limit: 1}, []string{"a"}, true, 5},
		{"at revision", RangeRequest{Key: b("a"), RangeEnd: []byte{0}, Revision: 4}, []string{"a", "b", "c"}, false, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.Range(tc.req)
			require.NoError(t, err)
			assert.Equal(t, tc.keys, kvKeys(resp.KVs))
			assert.Equal(t, tc.more, resp.More)
			assert.Equal(t, tc.count, resp.Count)
		})
	}
}

func TestRangeKeysOnlyDoesNotTouchStore(t *testing.T) {
	s := seedRange(t)
	resp, err := s.Range(RangeRequest{Key: b("a"), KeysOnly: true})
	require.NoError(t, err)
	assert.Nil(t, resp.KVs[0].Value)
	assert.Equal(t, int64(3), resp.KVs[0].Version)
	assert.Equal(t, "4", string(getKV(t, s, "a").Value))
}

func TestRangeErrors(t *testing.T) {
	s := seedRange(t)
	_, err := s.Range(RangeRequest{})
	assert.ErrorIs(t, err, ErrEmptyKey)
	_, err = s.Range(RangeRequest{Key: b("a"), SortOrder: 7})
	assert.ErrorIs(t, err, ErrInvalidSortOption)
	mustApply(t, s, Command{Compaction: &CompactionRequest{Revision: 5}})
	_, err = s.Range(RangeRequest{Key: b("a"), Revision: 4})
	assert.ErrorIs(t, err, ErrCompacted)
	assert.Equal(t, "mvcc: required revision has been compacted", err.Error())
	resp, err := s.Range(RangeRequest{Key: b("a"), RangeEnd: []byte{0}, Revision: 5})
	require.NoError(t, err, "the compaction revision itself stays readable")
	assert.Equal(t, []string{"a", "b", "c"}, kvKeys(resp.KVs))
	assert.Equal(t, "5", string(resp.KVs[0].Value))
}

func TestPut(t *testing.T) {
	s := New(Config{})
	mustPut(t, s, "a", "1")
	res := mustApply(t, s, Command{Put: &PutRequest{Key: b("a"), Value: b("2"), PrevKV: true}})
	require.NotNil(t, res.Put.PrevKV)
	assert.Equal(t, "1", string(res.Put.PrevKV.Value))
	res = mustApply(t, s, Command{Put: &PutRequest{Key: b("new"), PrevKV: true}})
	assert.Nil(t, res.Put.PrevKV)

	for _, tc := range []struct {
		name string
		req  PutRequest
		err  error
	}{
		{"empty key", PutRequest{Value: b("x")}, ErrEmptyKey},
		{"ignore value of missing key", PutRequest{Key: b("zz"), IgnoreValue: true}, ErrKeyNotFound},
		{"ignore lease of missing key", PutRequest{Key: b("zz"), IgnoreLease: true}, ErrKeyNotFound},
		{"ignore value with value", PutRequest{Key: b("a"), Value: b("v"), IgnoreValue: true}, ErrValueProvided},
		{"ignore lease with lease", PutRequest{Key: b("a"), Lease: 5, IgnoreLease: true}, ErrLeaseProvided},
		{"missing lease", PutRequest{Key: b("a"), Lease: 5}, ErrLeaseNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rev := s.Rev()
			res := s.Apply(Command{Put: &tc.req})
			assert.ErrorIs(t, res.Err, tc.err)
			assert.Equal(t, rev, s.Rev())
		})
	}

	res = mustApply(t, s, Command{Put: &PutRequest{Key: b("a"), IgnoreValue: true}})
	kv := getKV(t, s, "a")
	assert.Equal(t, "2", string(kv.Value))
	assert.Equal(t, int64(3), kv.Version)
	assert.Equal(t, res.Revision, kv.ModRevision)
}

func TestDeleteRange(t *testing.T) {
	s := seedRange(t)
	res := mustApply(t, s, Command{DeleteRange: &DeleteRangeRequest{Key: b("b"), RangeEnd: Prefix(b("b")), PrevKV: true}})
	assert.Equal(t, int64(2), res.DeleteRange.Deleted)
	assert.Equal(t, []string{"b", "b2"}, kvKeys(res.DeleteRange.PrevKVs))
	assert.Equal(t, int64(9), res.Revision)
	require.Len(t, res.Events, 2, "one revision, two events")
	assert.Equal(t, b("b2"), res.Events[1].KV.Key)
	assert.Equal(t, int64(9), res.Events[1].KV.ModRevision)
	assert.Equal(t, []string{"a", "c", "d"}, rangeKeys(t, s, RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}}))

	res = mustApply(t, s, delCmd("c", "\x00"))
	assert.Equal(t, int64(2), res.DeleteRange.Deleted)
	assert.ErrorIs(t, s.Apply(delCmd("", "")).Err, ErrEmptyKey)
}

func TestCompaction(t *testing.T) {
	s := New(Config{})
	mustPut(t, s, "a", "1")          // 2
	mustPut(t, s, "a", "2")          // 3
	mustApply(t, s, delCmd("a", "")) // 4
	mustPut(t, s, "b", "1")          // 5
	assert.ErrorIs(t, s.Apply(Command{Compaction: &CompactionRequest{Revision: 6}}).Err, ErrFutureRev)
	assert.Equal(t, "mvcc: required revision is a future revision", ErrFutureRev.Error())
	res := mustApply(t, s, Command{Compaction: &CompactionRequest{Revision: 3}})
	assert.Equal(t, int64(5), res.Revision, "compaction does not consume a revision")
	assert.Equal(t, int64(3), s.CompactRevision())
	assert.ErrorIs(t, s.Apply(Command{Compaction: &CompactionRequest{Revision: 3}}).Err, ErrCompacted)
	assert.ErrorIs(t, s.Apply(Command{Compaction: &CompactionRequest{Revision: 2}}).Err, ErrCompacted)
	kvs, _ := s.collect(mkSpan(b("a"), nil), 3, 0, false)
	require.Len(t, kvs, 1)
	assert.Equal(t, "2", string(kvs[0].Value))
	mustApply(t, s, Command{Compaction: &CompactionRequest{Revision: 5}})
	assert.Nil(t, s.index.get(b("a")), "a deleted key's history goes once the compaction passes its tombstone")
	assert.Equal(t, 1, s.index.len())
}
