package workload

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/node/bugs"
	"github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/kv"
	"github.com/orrery/orrery/sim"
)

func refKV(key, value string, create, mod, version int64, lease kv.LeaseID) kv.KeyValue {
	return kv.KeyValue{Key: []byte(key), Value: []byte(value), CreateRevision: create, ModRevision: mod, Version: version, Lease: lease}
}

// refAt returns a reference store at revision 9 holding k0 (mod 5), k1 (mod 3, lease 7),
// k2 (mod 2, lease 7), with lease 7 alive.
func refAt() *refStore {
	state := map[string]kv.KeyValue{
		"k0": refKV("k0", "c", 4, 5, 2, 0),
		"k1": refKV("k1", "a", 3, 3, 1, 7),
		"k2": refKV("k2", "b", 2, 9, 3, 7),
	}
	past := func(int64) map[string]kv.KeyValue { return map[string]kv.KeyValue{} }
	alive := func(id kv.LeaseID) bool { return id == 7 }
	ttl := func(kv.LeaseID) int64 { return 2 }
	return newRefStore(9, state, past, alive, ttl, 1)
}

func TestReferenceRange(t *testing.T) {
	all := kv.RangeRequest{Key: []byte("k"), RangeEnd: kv.Prefix([]byte("k"))}
	for _, tc := range []struct {
		name string
		mod  func(r *kv.RangeRequest)
		want string
	}{
		{"every key in key order", func(*kv.RangeRequest) {},
			`range count 3 more false ["k0"="c" (mod 5, create 4, version 2, lease 0), "k1"="a" (mod 3, create 3, version 1, lease 7), "k2"="b" (mod 9, create 2, version 3, lease 7)] @9`},
		{"a limit cuts and says more", func(r *kv.RangeRequest) { r.Limit = 2 },
			`range count 3 more true ["k0"="c" (mod 5, create 4, version 2, lease 0), "k1"="a" (mod 3, create 3, version 1, lease 7)] @9`},
		// etcd reads limit+1 keys in key order, then sorts them by the target named
		// without an order: k2's mod 9 never competes.
		{"a sort target without an order sorts after the limit's cut", func(r *kv.RangeRequest) { r.Limit, r.SortTarget = 1, kv.SortByMod },
			`range count 3 more true ["k1"="a" (mod 3, create 3, version 1, lease 7)] @9`},
		{"descending by value", func(r *kv.RangeRequest) { r.SortOrder, r.SortTarget, r.KeysOnly = kv.SortDescend, kv.SortByValue, true },
			`range count 3 more false ["k0"="" (mod 5, create 4, version 2, lease 0), "k2"="" (mod 9, create 2, version 3, lease 7), "k1"="" (mod 3, create 3, version 1, lease 7)] @9`},
		{"filters leave the count alone", func(r *kv.RangeRequest) { r.MinModRevision = 4 },
			`range count 3 more false ["k0"="c" (mod 5, create 4, version 2, lease 0), "k2"="b" (mod 9, create 2, version 3, lease 7)] @9`},
		{"count only", func(r *kv.RangeRequest) { r.CountOnly = true }, `range count 3 more false [nothing] @9`},
		{"a future revision", func(r *kv.RangeRequest) { r.Revision = 10 }, "error " + kv.ErrFutureRev.Error()},
		{"a past revision reads the past", func(r *kv.RangeRequest) { r.Revision = 1 }, `range count 0 more false [nothing] @9`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := all
			tc.mod(&r)
			a := refAt().query(&kv.Query{Range: &r})
			assert.Equal(t, tc.want, describeAnswer(&a))
		})
	}
}

func TestReferenceTxn(t *testing.T) {
	s := refAt()
	txn := &kv.TxnRequest{
		// An absent key has version 0; a value compare over no key fails.
		Compare: []kv.Compare{{Result: kv.CompareEqual, Target: kv.TargetVersion, Key: []byte("k9")}},
		Success: []kv.RequestOp{
			{Put: &kv.PutRequest{Key: []byte("k1"), IgnoreValue: true, PrevKV: true}},
			{Range: &kv.RangeRequest{Key: []byte("k1")}},
			{Txn: &kv.TxnRequest{
				Compare: []kv.Compare{{Result: kv.CompareGreater, Target: kv.TargetValue, Key: []byte("k5"), Value: []byte("a")}},
				Failure: []kv.RequestOp{{DeleteRange: &kv.DeleteRangeRequest{Key: []byte("k2")}}},
			}},
		},
	}
	resp, err := s.command(&kv.Command{Txn: txn})
	require.NoError(t, err)
	// The range sees the put (mod 10, version 2); the nested txn's header stays empty.
	assert.Equal(t, `txn succeeded true {put prev "k1"="a" (mod 3, create 3, version 1, lease 7) @10; `+
		`range count 1 more false ["k1"="a" (mod 10, create 3, version 2, lease 0)] @10; `+
		`txn succeeded false {deleted 1 prev [nothing] @10} @0} @10`, describeReply(&kv.Reply{Response: resp}))
	assert.Equal(t, []string{`put "k1" "a"`, `delete "k2"`}, eventTexts(s.events))

	// A put needing a missing key or lease refuses the whole txn, and nothing changes.
	s = refAt()
	_, err = s.command(&kv.Command{Txn: &kv.TxnRequest{Success: []kv.RequestOp{
		{DeleteRange: &kv.DeleteRangeRequest{Key: []byte("k0")}},
		{Put: &kv.PutRequest{Key: []byte("k3"), Value: []byte("x"), Lease: 8}},
	}}})
	assert.ErrorIs(t, err, kv.ErrLeaseNotFound)
	assert.False(t, s.wrote)
	assert.Empty(t, s.events)
}

func TestReferenceLeases(t *testing.T) {
	s := refAt()
	resp, err := s.command(&kv.Command{LeaseRevoke: &kv.LeaseRevokeRequest{ID: 7}})
	require.NoError(t, err)
	assert.Equal(t, "revoked @10", describeReply(&kv.Reply{Response: resp}))
	assert.Equal(t, []string{`delete "k1"`, `delete "k2"`}, eventTexts(s.events), "a revoke deletes the lease's keys, in key order")

	a := refAt().query(&kv.Query{TimeToLive: &kv.LeaseTimeToLiveRequest{ID: 7, Keys: true}})
	assert.Equal(t, `lease 7 ttl 2 granted 2 keys ["k1" "k2"] @9`, describeAnswer(&a))
	a = refAt().query(&kv.Query{TimeToLive: &kv.LeaseTimeToLiveRequest{ID: 8}})
	assert.Equal(t, `lease 8 ttl -1 granted 0 keys [] @9`, describeAnswer(&a))
	_, err = refAt().command(&kv.Command{LeaseGrant: &kv.LeaseGrantRequest{ID: 7, TTL: 5}})
	assert.ErrorIs(t, err, kv.ErrLeaseExist)
}

// stepDown is a server's notice that it stopped leading, at virtual time at (ns).
func stepDown(at time.Duration) []sim.Observation {
	return []sim.Observation{{At: at, Node: 1, Kind: "notice", Value: "role follower", Notice: component.RoleChanged{Leader: false}}}
}

func placedObs(node sim.NodeID, lines ...string) []sim.Observation {
	return kindObs(node, "mvcc-placed", lines...)
}

func TestCheckMvcc(t *testing.T) {
	for _, tc := range []struct {
		name string
		res  sim.Result
		err  string
	}{
		{"in real-time order", cat(placedObs(5, "2 write 0 10", "2 read 20 30"), placedObs(6, "3 write 25 40")), ""},
		{"a read after a completed write sits before it", cat(placedObs(5, "3 write 0 10"), placedObs(6, "2 read 20 30")),
			"a request of client 6 sent at 20ns sits at revision 2 (read), but one of client 5 that completed before it, at 10ns, was at revision 3 (write)"},
		{"a write at the revision of an earlier read", cat(placedObs(5, "3 read 0 10"), placedObs(6, "3 write 20 30")), "sits at revision 3 (write)"},
		{"two writers of one revision", cat(placedObs(5, "3 write 0 10"), placedObs(6, "3 write 5 30")), "revision 3 written by two requests"},
		{"a compacted read after a compaction", cat(kindObs(5, "compact-sent", "4"), kindObs(6, "compacted-read", "3 0")), ""},
		{"a compacted read with no compaction above it", cat(kindObs(5, "compact-sent", "3"), kindObs(6, "compacted-read", "3 0")),
			"a read at revision 3 was refused as compacted, but no compaction above it was sent"},
		{"a compaction refused by its own resend", cat(kindObs(5, "compact-sent", "4"), kindObs(5, "compacted-compact", "4 0")),
			"no other compaction at or above it was sent"},
		{"a read below a completed compaction", cat(kindObs(5, "compact-done", "5"), kindObs(6, "read-at", "3 1")),
			"a read at revision 3 sent at 1ns succeeded after a compaction to 5 had completed"},
		{"a watch lost to a compaction nobody sent", cat(kindObs(5, "compact-sent", "4"), kindObs(6, "watch-lost", "5 2")),
			"cancelled as compacted at 5, but no compaction to 5 was sent"},
		{"a wrong response", cat(kindObs(5, "mvcc-wrong", "put got x")), "client n5: put got x"},
		// A lease promised 2s at 1s may be gone at 3s but not at 2s; of two explanations
		// one that holds is enough.
		{"a lease gone when its promise ran out", cat(kindObs(5, "lease-gone", "3000000000; 7 2 1000000000")), ""},
		{"a lease gone early", cat(kindObs(5, "lease-gone", "2000000000; 7 2 1000000000")),
			"a response at 2s needs a lease gone early: lease 7, promised 2s by a grant or keep-alive sent at 1s (slack 100ms), 900ms early"},
		{"one of two explanations holds", cat(kindObs(5, "lease-gone", "2000000000; 7 2 1000000000 | 8 1 0")), ""},
		{"a keep-alive refused as not leader while a leader stepped down", cat(stepDown(15), kindObs(5, "not-leader", "10 20")), ""},
		{"a keep-alive refused as not leader with no step-down", cat(stepDown(25), kindObs(5, "not-leader", "10 20")),
			`client n5: a keep-alive sent at 10ns was refused with "etcdserver: not leader" at 20ns, but no server stepped down meanwhile`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkMvcc(tc.res)
			if tc.err == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
		})
	}
}

// The reference check itself (not the watch checks) catches a store whose compares read
// the revision before the current one.
func TestMvccReferenceCatchesStaleCompares(t *testing.T) {
	w := mvccWorkload()
	sys, err := w.BuildSystem(Config{Bugs: bugs.With(kv.BugStaleCompare)})
	require.NoError(t, err)
	faults, err := sim.ParseFaults("all")
	require.NoError(t, err)
	for seed := uint64(1); seed <= 20; seed++ {
		res, err := sim.Run(sys, sim.Options{Seed: seed, Faults: faults})
		require.NoError(t, err)
		if err := sys.Invariants(res); err != nil && strings.Contains(err.Error(), "the reference answers") {
			return
		}
	}
	t.Fatal("no seed of 1-20 caught kv.txn-stale-compare through the reference")
}
