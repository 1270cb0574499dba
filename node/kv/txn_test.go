package kv

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/node/bugs"
)

func opPut(k, v string) RequestOp { return RequestOp{Put: &PutRequest{Key: b(k), Value: b(v)}} }
func opDel(k, end string) RequestOp {
	return RequestOp{DeleteRange: &DeleteRangeRequest{Key: b(k), RangeEnd: b(end)}}
}
func opGet(k, end string) RequestOp {
	return RequestOp{Range: &RangeRequest{Key: b(k), RangeEnd: b(end)}}
}
func opTxn(t TxnRequest) RequestOp { return RequestOp{Txn: &t} }

func cmpValue(k string, r CompareResult, v string) Compare {
	return Compare{Key: b(k), Target: TargetValue, Result: r, Value: b(v)}
}

func cmpInt(k, end string, tgt CompareTarget, r CompareResult, n int64) Compare {
	c := Compare{Key: b(k), RangeEnd: b(end), Target: tgt, Result: r}
	switch tgt {
	case TargetVersion:
		c.Version = n
	case TargetCreate:
		c.CreateRevision = n
	case TargetMod:
		c.ModRevision = n
	case TargetLease:
		c.Lease = n
	}
	return c
}

func txnCmd(t TxnRequest) Command { return Command{Txn: &t} }

func TestTxnCompares(t *testing.T) {
	s := New(Config{})
	mustPut(t, s, "a", "1") // 2
	mustPut(t, s, "b", "2") // 3
	mustPut(t, s, "b", "3") // 4
	for _, tc := range []struct {
		name string
		c    Compare
		want bool
	}{
		{"value equal", cmpValue("a", CompareEqual, "1"), true},
		{"value not equal", cmpValue("a", CompareNotEqual, "1"), false},
		{"value greater", cmpValue("b", CompareGreater, "2"), true},
		{"value less", cmpValue("b", CompareLess, "3"), false},
		{"value of missing key fails", cmpValue("zz", CompareNotEqual, "x"), false},
		{"create of missing key is 0", cmpInt("zz", "", TargetCreate, CompareEqual, 0), true},
		{"version of missing key is 0", cmpInt("zz", "", TargetVersion, CompareLess, 1), true},
		{"version", cmpInt("b", "", TargetVersion, CompareEqual, 2), true},
		{"mod", cmpInt("b", "", TargetMod, CompareEqual, 4), true},
		{"create", cmpInt("b", "", TargetCreate, CompareEqual, 3), true},
		{"lease", cmpInt("a", "", TargetLease, CompareEqual, 0), true},
		{"range all satisfy", cmpInt("a", "c", TargetMod, CompareGreater, 1), true},
		{"range one fails", cmpInt("a", "c", TargetVersion, CompareEqual, 1), false},
		{"range from key", cmpInt("a", "\x00", TargetCreate, CompareLess, 4), true},
		{"empty range compares zero", cmpInt("x", "y", TargetMod, CompareEqual, 0), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := mustApply(t, s, txnCmd(TxnRequest{Compare: []Compare{tc.c}}))
			assert.Equal(t, tc.want, res.Txn.Succeeded)
			assert.Equal(t, int64(4), res.Revision, "a txn without writes takes no revision")
		})
	}
}

func TestTxnBranchesAndRevision(t *testing.T) {
	s := New(Config{})
	mustPut(t, s, "a", "1") // 2
	req := TxnRequest{
		Compare: []Compare{cmpValue("a", CompareEqual, "1")},
		Success: []RequestOp{opPut("b", "x"), opPut("c", "y"), opGet("b", "d"), opDel("a", "")},
		Failure: []RequestOp{opPut("f", "z")},
	}
	res := mustApply(t, s, txnCmd(req))
	require.True(t, res.Txn.Succeeded)
	assert.Equal(t, int64(3), res.Revision, "one revision for the whole txn")
	assert.Equal(t, int64(3), res.Txn.Header.Revision)
	require.Len(t, res.Txn.Responses, 4)
	assert.Equal(t, int64(3), res.Txn.Responses[0].Put.Header.Revision)
	rr := res.Txn.Responses[2].Range
	assert.Equal(t, []string{"b", "c"}, kvKeys(rr.KVs), "reads see the txn's earlier writes")
	assert.Equal(t, int64(3), rr.Header.Revision)
	assert.Equal(t, int64(1), res.Txn.Responses[3].DeleteRange.Deleted)
	require.Len(t, res.Events, 3)
	for i, ev := range res.Events {
		assert.Equal(t, int64(3), ev.KV.ModRevision, "event %d", i)
	}
	assert.Equal(t, EventDelete, res.Events[2].Type)

	res = mustApply(t, s, txnCmd(req))
	require.False(t, res.Txn.Succeeded)
	assert.Equal(t, int64(4), res.Revision)
	assert.Equal(t, "z", string(getKV(t, s, "f").Value))
}

func TestTxnReadBeforeWriteSeesOldRevision(t *testing.T) {
	s := New(Config{})
	mustPut(t, s, "a", "1")
	res := mustApply(t, s, txnCmd(TxnRequest{Success: []RequestOp{opGet("a", ""), opPut("a", "2"), opGet("a", "")}}))
	assert.Equal(t, int64(2), res.Txn.Responses[0].Range.Header.Revision)
	assert.Equal(t, "1", string(res.Txn.Responses[0].Range.KVs[0].Value))
	assert.Equal(t, int64(3), res.Txn.Responses[2].Range.Header.Revision)
	assert.Equal(t, "2", string(res.Txn.Responses[2].Range.KVs[0].Value))
}

func TestTxnNested(t *testing.T) {
	s := New(Config{})
	mustPut(t, s, "a", "1") // 2
	inner := TxnRequest{
		// Evaluated against the state before the outer txn: "b" does not exist yet even
		// though the outer txn puts it first.
		Compare: []Compare{cmpInt("b", "", TargetVersion, CompareEqual, 0)},
		Success: []RequestOp{opPut("c", "then")},
		Failure: []RequestOp{opPut("c", "else")},
	}
	outer := TxnRequest{
		Compare: []Compare{cmpValue("a", CompareEqual, "1")},
		Success: []RequestOp{opPut("b", "1"), opTxn(inner), opGet("c", "")},
	}
	res := mustApply(t, s, txnCmd(outer))
	require.True(t, res.Txn.Succeeded)
	nested := res.Txn.Responses[1].Txn
	require.NotNil(t, nested)
	assert.True(t, nested.Succeeded)
	assert.Equal(t, int64(0), nested.Header.Revision, "etcd leaves nested txn headers empty")
	assert.Equal(t, "then", string(res.Txn.Responses[2].Range.KVs[0].Value))
	assert.Equal(t, int64(3), res.Revision)
	assert.Len(t, res.Events, 2)

	// Both branches of a nested txn may put the same key: only one runs.
	ok := TxnRequest{Success: []RequestOp{opTxn(TxnRequest{Success: []RequestOp{opPut("x", "1")}, Failure: []RequestOp{opPut("x", "2")}})}}
	mustApply(t, s, txnCmd(ok))
}

func TestTxnRejected(t *testing.T) {
	s := New(Config{MaxTxnOps: 3})
	mustPut(t, s, "a", "1")
	many := TxnRequest{Success: []RequestOp{opPut("1", ""), opPut("2", ""), opPut("3", ""), opPut("4", "")}}
	for _, tc := range []struct {
		name string
		req  TxnRequest
		err  error
	}{
		{"put twice", TxnRequest{Success: []RequestOp{opPut("k", "1"), opPut("k", "2")}}, ErrDuplicateKey},
		{"put and delete", TxnRequest{Success: []RequestOp{opPut("k", "1"), opDel("j", "l")}}, ErrDuplicateKey},
		{"put in failure and delete", TxnRequest{Failure: []RequestOp{opDel("k", ""), opPut("k", "1")}}, ErrDuplicateKey},
		{"nested put and outer put", TxnRequest{Success: []RequestOp{opPut("k", "1"), opTxn(TxnRequest{Success: []RequestOp{opPut("k", "2")}})}}, ErrDuplicateKey},
		{"nested put under outer delete", TxnRequest{Success: []RequestOp{opDel("a", "z"), opTxn(TxnRequest{Failure: []RequestOp{opPut("k", "2")}})}}, ErrDuplicateKey},
		{"delete to the end", TxnRequest{Success: []RequestOp{opDel("a", "\x00"), opPut("k", "2")}}, ErrDuplicateKey},
		{"too many ops", many, ErrTooManyOps},
		{"empty compare key", TxnRequest{Compare: []Compare{{Target: TargetVersion}}}, ErrEmptyKey},
		{"empty op key", TxnRequest{Success: []RequestOp{opGet("", "")}}, ErrEmptyKey},
		{"missing lease", TxnRequest{Success: []RequestOp{opPut("x", "1"), {Put: &PutRequest{Key: b("y"), Lease: 9}}}}, ErrLeaseNotFound},
		{"ignore value of missing key", TxnRequest{Success: []RequestOp{opPut("x", "1"), {Put: &PutRequest{Key: b("y"), IgnoreValue: true}}}}, ErrKeyNotFound},
		{"future range", TxnRequest{Success: []RequestOp{opPut("x", "1"), {Range: &RangeRequest{Key: b("a"), Revision: 3}}}}, ErrFutureRev},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := s.Snapshot()
			res := s.Apply(txnCmd(tc.req))
			assert.ErrorIs(t, res.Err, tc.err)
			assert.Nil(t, res.Txn)
			assert.Equal(t, snap, s.Snapshot(), "a refused txn changes nothing")
		})
	}
	// Checks only cover the branch taken.
	res := mustApply(t, s, txnCmd(TxnRequest{
		Compare: []Compare{cmpValue("a", CompareEqual, "1")},
		Failure: []RequestOp{{Put: &PutRequest{Key: b("y"), Lease: 9}}},
	}))
	assert.True(t, res.Txn.Succeeded)
}

func TestTxnWriteWithoutChange(t *testing.T) {
	s := New(Config{})
	res := mustApply(t, s, txnCmd(TxnRequest{Success: []RequestOp{opDel("nothing", "")}}))
	assert.Equal(t, int64(1), res.Revision)
	assert.Equal(t, int64(1), res.Txn.Header.Revision)
	assert.Empty(t, res.Events)
}

func TestReadTxn(t *testing.T) {
	s := New(Config{})
	mustPut(t, s, "a", "1")
	resp, err := s.ReadTxn(TxnRequest{Compare: []Compare{cmpValue("a", CompareEqual, "1")}, Success: []RequestOp{opGet("a", "")}})
	require.NoError(t, err)
	assert.True(t, resp.Succeeded)
	assert.Equal(t, int64(2), resp.Header.Revision)
	_, err = s.ReadTxn(TxnRequest{Failure: []RequestOp{opPut("a", "2")}})
	assert.ErrorIs(t, err, ErrTxnNotReadOnly)
}

// With kv.txn-nonatomic on, each write of a txn gets its own revision, so a read at an
// intermediate revision and the watch stream see half of the txn; correct code writes the
// whole txn at one revision.
func TestTxnNonAtomicBug(t *testing.T) {
	txn := txnCmd(TxnRequest{Success: []RequestOp{opPut("a", "1"), opGet("a", ""), opPut("b", "2"), opDel("c", "")}})
	for _, tc := range []struct {
		name     string
		bugs     bugs.Set
		rev      int64   // the store's revision after the txn
		eventRev []int64 // the revision of each event, in order
	}{
		{"correct", bugs.Set{}, 3, []int64{3, 3, 3}},
		{"nonatomic", bugs.With(BugTxnNonAtomic), 5, []int64{3, 4, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Config{Bugs: tc.bugs})
			mustPut(t, s, "c", "0") // 2
			id, err := s.Watches().Watch(WatchRequest{Key: b("a"), RangeEnd: b("z")})
			require.NoError(t, err)
			res := mustApply(t, s, txn)
			assert.Equal(t, tc.rev, res.Revision)
			assert.Equal(t, tc.rev, res.Txn.Header.Revision)
			var revs []int64
			for _, ev := range res.Events {
				revs = append(revs, ev.KV.ModRevision)
			}
			assert.Equal(t, tc.eventRev, revs)
			assert.Equal(t, "1", string(res.Txn.Responses[1].Range.KVs[0].Value), "a txn reads its own writes")

			// The revision after the first write: all of the txn, or only its first put.
			mid, err := s.Range(RangeRequest{Key: b("a"), RangeEnd: b("z"), Revision: 3})
			require.NoError(t, err)
			want := []string{"a", "b"}
			if tc.rev != 3 {
				want = []string{"a", "c"}
			}
			assert.Equal(t, want, kvKeys(mid.KVs))

			// The watcher gets one response per Take holding every revision; count revisions.
			resps := s.Watches().Take()
			require.Len(t, resps, 1)
			assert.Equal(t, id, resps[0].WatchID)
			assert.Len(t, resps[0].Events, 3)
		})
	}
}

// With kv.txn-stale-compare on, compares read the revision before the current one: a
// guard on a key's mod revision passes although the key was written just before, and an
// optimistic update overwrites that write.
func TestTxnStaleCompareBug(t *testing.T) {
	for _, tc := range []struct {
		name string
		bugs bugs.Set
		lost bool
	}{
		{"correct", bugs.Set{}, false},
		{"stale compare", bugs.With(BugStaleCompare), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Config{Bugs: tc.bugs})
			mustPut(t, s, "x", "1") // 2: both writers read x here
			mustPut(t, s, "z", "0") // 3: the stale view is at 2
			guarded := func(v string) Command {
				return txnCmd(TxnRequest{
					Compare: []Compare{{Result: CompareEqual, Target: TargetMod, Key: b("x"), ModRevision: 2}},
					Success: []RequestOp{opPut("x", v)},
				})
			}
			first := mustApply(t, s, guarded("1,2"))
			require.True(t, first.Txn.Succeeded)
			second := mustApply(t, s, guarded("1,3"))
			assert.Equal(t, tc.lost, second.Txn.Succeeded, "the second guard saw x's write at revision 3")
			got, err := s.Range(RangeRequest{Key: b("x")})
			require.NoError(t, err)
			want := map[bool]string{false: "1,2", true: "1,3"}[tc.lost]
			assert.Equal(t, want, string(got.KVs[0].Value))

			// A guard on a write two revisions back holds either way.
			mustPut(t, s, "y", "0")
			third := mustApply(t, s, guarded("1,4"))
			assert.False(t, third.Txn.Succeeded)
		})
	}
}
