package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/orrery/orrery/node/kv"
)

// TestKVThroughEveryMember writes through every member, leader and followers alike (a
// follower forwards to the leader), and reads every write back through every member:
// reads are linearizable, so a follower must see a write another member acknowledged.
func TestKVThroughEveryMember(t *testing.T) {
	cl := newCluster(t, 3)
	cl.leader()
	ctx := testCtx(t, testTimeout)
	var clis []*clientv3.Client
	for i := range cl.ds {
		clis = append(clis, newClient(t, cl.endpoints(i)))
	}
	for i, cli := range clis {
		_, err := cli.Put(ctx, fmt.Sprintf("kv/%d", i), fmt.Sprintf("v%d", i))
		require.NoError(t, err, "put through member %d", i+1)
		for j, reader := range clis {
			resp, err := reader.Get(ctx, fmt.Sprintf("kv/%d", i))
			require.NoError(t, err)
			require.Len(t, resp.Kvs, 1, "member %d reads member %d's write", j+1, i+1)
			assert.Equal(t, fmt.Sprintf("v%d", i), string(resp.Kvs[0].Value))
		}
	}
	_, err := clis[0].Put(ctx, "other", "x")
	require.NoError(t, err)

	resp, err := clis[1].Get(ctx, "kv/", clientv3.WithPrefix())
	require.NoError(t, err)
	assert.Equal(t, []string{"kv/0", "kv/1", "kv/2"}, keys(resp))
	resp, err = clis[2].Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	require.NoError(t, err)
	assert.EqualValues(t, 3, resp.Count)
	resp, err = clis[2].Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithLimit(2), clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
	require.NoError(t, err)
	assert.Equal(t, []string{"kv/2", "kv/1"}, keys(resp))
	assert.True(t, resp.More)

	// Overwrite: the version counts up, the create revision stays.
	first, err := clis[1].Get(ctx, "kv/1")
	require.NoError(t, err)
	_, err = clis[1].Put(ctx, "kv/1", "again")
	require.NoError(t, err)
	again, err := clis[0].Get(ctx, "kv/1")
	require.NoError(t, err)
	assert.Equal(t, first.Kvs[0].CreateRevision, again.Kvs[0].CreateRevision)
	assert.Equal(t, first.Kvs[0].Version+1, again.Kvs[0].Version)

	// Reads at an old revision see the old value.
	old, err := clis[2].Get(ctx, "kv/1", clientv3.WithRev(first.Header.Revision))
	require.NoError(t, err)
	assert.Equal(t, "v1", string(old.Kvs[0].Value))

	del, err := clis[2].Delete(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithPrevKV())
	require.NoError(t, err)
	assert.EqualValues(t, 3, del.Deleted)
	assert.Len(t, del.PrevKvs, 3)
	for _, cli := range clis {
		resp, err := cli.Get(ctx, "", clientv3.WithPrefix())
		require.NoError(t, err)
		assert.Equal(t, []string{"other"}, keys(resp))
	}
	// Serializable reads on a follower catch up with the deletion.
	require.Eventually(t, func() bool {
		resp, err := clis[(cl.leader()+1)%3].Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithSerializable())
		return err == nil && resp.Count == 0
	}, settle, 10*time.Millisecond)
}

func keys(resp *clientv3.GetResponse) []string {
	var out []string
	for _, kv := range resp.Kvs {
		out = append(out, string(kv.Key))
	}
	return out
}

// follower returns the index of a member that is not the leader.
func (cl *cluster) follower() int { return (cl.leader() + 1) % len(cl.ds) }

// TestTxn runs compare-and-swap transactions through a follower: the success branch when
// the comparison holds, the failure branch when it does not, and nested reads.
func TestTxn(t *testing.T) {
	cl := newCluster(t, 3)
	cli := newClient(t, cl.endpoints(cl.follower()))
	ctx := testCtx(t, testTimeout)

	_, err := cli.Put(ctx, "acct", "10")
	require.NoError(t, err)
	cas := func(from, to string) *clientv3.TxnResponse {
		resp, err := cli.Txn(ctx).
			If(clientv3.Compare(clientv3.Value("acct"), "=", from)).
			Then(clientv3.OpPut("acct", to), clientv3.OpGet("acct")).
			Else(clientv3.OpGet("acct")).
			Commit()
		require.NoError(t, err)
		return resp
	}
	ok := cas("10", "20")
	require.True(t, ok.Succeeded)
	assert.Equal(t, "20", string(ok.Responses[1].GetResponseRange().Kvs[0].Value))
	failed := cas("10", "30")
	require.False(t, failed.Succeeded)
	assert.Equal(t, "20", string(failed.Responses[0].GetResponseRange().Kvs[0].Value))

	// A create-if-absent guard on the create revision.
	create := func() bool {
		resp, err := cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision("once"), "=", 0)).
			Then(clientv3.OpPut("once", "x")).
			Commit()
		require.NoError(t, err)
		return resp.Succeeded
	}
	assert.True(t, create())
	assert.False(t, create())

	// Every write of a transaction lands at one revision.
	resp, err := cli.Txn(ctx).Then(clientv3.OpPut("t/a", "1"), clientv3.OpPut("t/b", "2"), clientv3.OpDelete("once")).Commit()
	require.NoError(t, err)
	got, err := cli.Get(ctx, "t/", clientv3.WithPrefix())
	require.NoError(t, err)
	require.Len(t, got.Kvs, 2)
	for _, kv := range got.Kvs {
		assert.Equal(t, resp.Header.Revision, kv.ModRevision)
	}
}

// TestWatch watches through a follower while another member writes, resumes a watch
// from a past revision (it replays the history), and gets etcd's compacted error for a
// watch that starts before the compaction.
func TestWatch(t *testing.T) {
	cl := newCluster(t, 3)
	lead := cl.leader()
	writer := newClient(t, cl.endpoints(lead))
	watcher := newClient(t, cl.endpoints((lead+1)%3))
	ctx := testCtx(t, testTimeout)

	wch := watcher.Watch(ctx, "w/", clientv3.WithPrefix(), clientv3.WithPrevKV())
	// The watch is registered once the first response (created) arrives: etcd clients
	// only report it with WithCreatedNotify, so write until an event comes.
	var revs []int64
	for i := range 5 {
		resp, err := writer.Put(ctx, fmt.Sprintf("w/%d", i), fmt.Sprintf("v%d", i))
		require.NoError(t, err)
		revs = append(revs, resp.Header.Revision)
	}
	_, err := writer.Delete(ctx, "w/0")
	require.NoError(t, err)
	var got []string
	for len(got) < 6 {
		select {
		case resp := <-wch:
			require.NoError(t, resp.Err())
			for _, ev := range resp.Events {
				got = append(got, fmt.Sprintf("%s %s=%s", ev.Type, ev.Kv.Key, ev.Kv.Value))
				if ev.Type == clientv3.EventTypeDelete {
					require.NotNil(t, ev.PrevKv)
					assert.Equal(t, "v0", string(ev.PrevKv.Value))
				}
			}
		case <-ctx.Done():
			t.Fatalf("watch saw only %v", got)
		}
	}
	assert.Equal(t, []string{"PUT w/0=v0", "PUT w/1=v1", "PUT w/2=v2", "PUT w/3=v3", "PUT w/4=v4", "DELETE w/0="}, got)

	// Resume from the third write: the history from there is replayed.
	resumed := watcher.Watch(ctx, "w/", clientv3.WithPrefix(), clientv3.WithRev(revs[2]))
	got = nil
	for len(got) < 4 {
		select {
		case resp := <-resumed:
			require.NoError(t, resp.Err())
			for _, ev := range resp.Events {
				got = append(got, fmt.Sprintf("%s %s@%d", ev.Type, ev.Kv.Key, ev.Kv.ModRevision))
			}
		case <-ctx.Done():
			t.Fatalf("resumed watch saw only %v", got)
		}
	}
	assert.Equal(t, []string{
		fmt.Sprintf("PUT w/2@%d", revs[2]), fmt.Sprintf("PUT w/3@%d", revs[3]), fmt.Sprintf("PUT w/4@%d", revs[4]),
		fmt.Sprintf("DELETE w/0@%d", revs[4]+1),
	}, got)

	// Compact past the first writes: a watch from before the compaction is refused with
	// the compaction revision, and a watch from it still works.
	_, err = writer.Compact(ctx, revs[3], clientv3.WithCompactPhysical())
	require.NoError(t, err)
	// The watch is served from the follower's applied state, which applies the compaction
	// a moment after the leader answered (etcd's followers too): wait until it has.
	require.Eventually(t, func() bool {
		_, err := watcher.Get(ctx, "w/1", clientv3.WithRev(revs[1]), clientv3.WithSerializable())
		return errors.Is(err, rpctypes.ErrCompacted)
	}, settle, 5*time.Millisecond, "the follower never applied the compaction")
	compacted := watcher.Watch(ctx, "w/", clientv3.WithPrefix(), clientv3.WithRev(revs[1]))
	select {
	case resp, ok := <-compacted:
		require.True(t, ok, "the compacted watch closes only after its error")
		assert.ErrorIs(t, resp.Err(), rpctypes.ErrCompacted)
		assert.Equal(t, revs[3], resp.CompactRevision)
	case <-ctx.Done():
		t.Fatal("no answer to a watch on a compacted revision")
	}
	fromCompaction := watcher.Watch(ctx, "w/", clientv3.WithPrefix(), clientv3.WithRev(revs[3]))
	select {
	case resp := <-fromCompaction:
		require.NoError(t, resp.Err())
		require.NotEmpty(t, resp.Events)
		assert.Equal(t, "w/3", string(resp.Events[0].Kv.Key))
	case <-ctx.Done():
		t.Fatal("no events from the compaction revision")
	}
	_, err = writer.Get(ctx, "w/1", clientv3.WithRev(revs[1]))
	assert.ErrorIs(t, err, rpctypes.ErrCompacted)
}

// TestLeaseKeepAliveAndExpiry grants two short leases through a follower (the member's
// minimum TTL lowered to 1 s), keeps one alive and lets the other expire: the
// unrefreshed lease's key goes, the refreshed one's stays past its TTL and goes too once
// the keep-alive stops. A revoke deletes at once.
func TestLeaseKeepAliveAndExpiry(t *testing.T) {
	cl := newCluster(t, 3, withStore(kv.Config{MinLeaseTTL: 1}))
	cli := newClient(t, cl.endpoints(cl.follower()))
	ctx := testCtx(t, testTimeout)

	granted := time.Now()
	// Two seconds: the client refreshes every TTL/3, so only a stall over 1.3 s on a
	// loaded machine could let the kept lease lapse.
	kept, err := cli.Grant(ctx, 2)
	require.NoError(t, err)
	require.EqualValues(t, 2, kept.TTL)
	lapsed, err := cli.Grant(ctx, 1)
	require.NoError(t, err)
	_, err = cli.Put(ctx, "lease/kept", "x", clientv3.WithLease(kept.ID))
	require.NoError(t, err)
	_, err = cli.Put(ctx, "lease/lapsed", "x", clientv3.WithLease(lapsed.ID))
	require.NoError(t, err)

	kaCtx, stopKeepAlive := context.WithCancel(ctx)
	defer stopKeepAlive()
	ka, err := cli.KeepAlive(kaCtx, kept.ID)
	require.NoError(t, err)

	exists := func(key string) bool {
		resp, err := cli.Get(ctx, key)
		require.NoError(t, err)
		return resp.Count == 1
	}
	// Wait for the lapsed lease to expire and for the kept one to outlive its TTL by half,
	// consuming keep-alive answers meanwhile.
	lapsedGone := false
	for !lapsedGone || time.Since(granted) < 3*time.Second {
		select {
		case resp, ok := <-ka:
			require.True(t, ok, "keep-alive channel closed early")
			assert.Equal(t, kept.ID, resp.ID)
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("the unrefreshed lease never expired")
		}
		lapsedGone = lapsedGone || !exists("lease/lapsed")
	}
	require.True(t, exists("lease/kept"), "a lease kept alive expired")
	ttl, err := cli.TimeToLive(ctx, kept.ID, clientv3.WithAttachedKeys())
	require.NoError(t, err)
	assert.GreaterOrEqual(t, ttl.TTL, int64(0), "a kept lease is alive (whole seconds left, rounded down)")
	assert.EqualValues(t, 2, ttl.GrantedTTL)
	assert.Equal(t, [][]byte{[]byte("lease/kept")}, ttl.Keys)
	gone, err := cli.TimeToLive(ctx, lapsed.ID)
	require.NoError(t, err)
	assert.EqualValues(t, -1, gone.TTL, "an expired lease is gone")

	stopKeepAlive()
	require.Eventually(t, func() bool { return !exists("lease/kept") }, settle, 20*time.Millisecond,
		"the lease outlived its keep-alive")

	revoked, err := cli.Grant(ctx, 60)
	require.NoError(t, err)
	_, err = cli.Put(ctx, "lease/revoked", "x", clientv3.WithLease(revoked.ID))
	require.NoError(t, err)
	_, err = cli.Revoke(ctx, revoked.ID)
	require.NoError(t, err)
	assert.False(t, exists("lease/revoked"))
	leases, err := cli.Leases(ctx)
	require.NoError(t, err)
	assert.Empty(t, leases.Leases)
	_, err = cli.KeepAliveOnce(ctx, revoked.ID)
	assert.ErrorIs(t, err, rpctypes.ErrLeaseNotFound)
}

// TestMutex locks a concurrency.Mutex from two sessions on different members: the second
// Lock blocks until the first holder unlocks.
func TestMutex(t *testing.T) {
	cl := newCluster(t, 3)
	lead := cl.leader()
	ctx := testCtx(t, testTimeout)
	s1, err := concurrency.NewSession(newClient(t, cl.endpoints(lead)), concurrency.WithTTL(5))
	require.NoError(t, err)
	defer s1.Close()
	s2, err := concurrency.NewSession(newClient(t, cl.endpoints((lead+1)%3)), concurrency.WithTTL(5))
	require.NoError(t, err)
	defer s2.Close()

	m1, m2 := concurrency.NewMutex(s1, "/lock/"), concurrency.NewMutex(s2, "/lock/")
	require.NoError(t, m1.Lock(ctx))
	require.ErrorIs(t, m2.TryLock(ctx), concurrency.ErrLocked)

	locked := make(chan error, 1)
	go func() { locked <- m2.Lock(ctx) }()
	// m2 waits on m1's key: its own key is there, behind m1's.
	require.Eventually(t, func() bool {
		resp, err := s1.Client().Get(ctx, "/lock/", clientv3.WithPrefix())
		return err == nil && resp.Count == 2
	}, settle, 10*time.Millisecond)
	select {
	case err := <-locked:
		t.Fatalf("second Lock returned (%v) while the first holder held the lock", err)
	default:
	}
	require.NoError(t, m1.Unlock(ctx))
	select {
	case err := <-locked:
		require.NoError(t, err)
	case <-ctx.Done():
		t.Fatal("second Lock never returned after Unlock")
	}
	// The holder's key is the lowest revision under the prefix.
	resp, err := s2.Client().Get(ctx, "/lock/", clientv3.WithFirstCreate()...)
	require.NoError(t, err)
	assert.Equal(t, m2.Key(), string(resp.Kvs[0].Key))
	require.NoError(t, m2.Unlock(ctx))
}

// TestElection campaigns from two members: the first wins, the second waits, Leader and
// Observe report the winner, and a resignation hands leadership over.
func TestElection(t *testing.T) {
	cl := newCluster(t, 3)
	lead := cl.leader()
	ctx := testCtx(t, testTimeout)
	s1, err := concurrency.NewSession(newClient(t, cl.endpoints(lead)), concurrency.WithTTL(5))
	require.NoError(t, err)
	defer s1.Close()
	s2, err := concurrency.NewSession(newClient(t, cl.endpoints((lead+2)%3)), concurrency.WithTTL(5))
	require.NoError(t, err)
	defer s2.Close()
	e1, e2 := concurrency.NewElection(s1, "/elect/"), concurrency.NewElection(s2, "/elect/")

	obsCtx, stopObserve := context.WithCancel(ctx)
	defer stopObserve()
	observed := e2.Observe(obsCtx)

	require.NoError(t, e1.Campaign(ctx, "alice"))
	won := make(chan error, 1)
	go func() { won <- e2.Campaign(ctx, "bob") }()

	leader, err := e2.Leader(ctx)
	require.NoError(t, err)
	assert.Equal(t, "alice", string(leader.Kvs[0].Value))
	waitObserved(t, ctx, observed, "alice")
	select {
	case err := <-won:
		t.Fatalf("second campaign returned (%v) while the first leader held office", err)
	default:
	}

	require.NoError(t, e1.Proclaim(ctx, "alice-2"))
	waitObserved(t, ctx, observed, "alice-2")
	require.NoError(t, e1.Resign(ctx))
	select {
	case err := <-won:
		require.NoError(t, err)
	case <-ctx.Done():
		t.Fatal("second campaign never won after the resignation")
	}
	waitObserved(t, ctx, observed, "bob")
	leader, err = e1.Leader(ctx)
	require.NoError(t, err)
	assert.Equal(t, "bob", string(leader.Kvs[0].Value))
	require.NoError(t, e2.Resign(ctx))
	_, err = e1.Leader(ctx)
	assert.ErrorIs(t, err, concurrency.ErrElectionNoLeader)
}

func waitObserved(t *testing.T, ctx context.Context, ch <-chan *clientv3.GetResponse, want string) {
	t.Helper()
	for {
		select {
		case resp, ok := <-ch:
			require.True(t, ok, "observe closed before seeing %q", want)
			if len(resp.Kvs) > 0 && string(resp.Kvs[0].Value) == want {
				return
			}
		case <-ctx.Done():
			t.Fatalf("never observed %q", want)
		}
	}
}

// TestMemberListAndStatus lists the members with the client URLs they announced to each
// other, through every member, and asks every endpoint for its status: each names itself
// and all agree on one leader, which is a member of the list.
func TestMemberListAndStatus(t *testing.T) {
	cl := newCluster(t, 3)
	cl.leader()
	ctx := testCtx(t, testTimeout)
	want := map[string]string{}
	for i, p := range cl.peers {
		want[p.Name] = "http://" + cl.clients[i]
	}
	for i := range cl.ds {
		cli := newClient(t, cl.endpoints(i))
		// Members announce their client URLs about once a second: poll.
		require.Eventually(t, func() bool {
			resp, err := cli.MemberList(ctx)
			if err != nil || len(resp.Members) != 3 {
				return false
			}
			got := map[string]string{}
			for _, m := range resp.Members {
				if len(m.ClientURLs) != 1 || len(m.PeerURLs) != 1 {
					return false
				}
				got[m.Name] = m.ClientURLs[0]
			}
			return assert.ObjectsAreEqual(want, got)
		}, settle, 20*time.Millisecond, "member list through member %d", i+1)
	}

	cli := newClient(t, cl.endpoints())
	list, err := cli.MemberList(ctx)
	require.NoError(t, err)
	ids := map[uint64]bool{}
	for _, m := range list.Members {
		ids[m.ID] = true
	}
	var leaders []uint64
	var self []uint64
	for _, ep := range cl.endpoints() {
		st, err := cli.Status(ctx, ep)
		require.NoError(t, err, ep)
		assert.Empty(t, st.Errors, ep)
		assert.True(t, ids[st.Header.MemberId], "%s reports member %x, not in the member list", ep, st.Header.MemberId)
		assert.Positive(t, st.RaftTerm)
		assert.NotEmpty(t, st.Version)
		leaders = append(leaders, st.Leader)
		self = append(self, st.Header.MemberId)
	}
	assert.Equal(t, []uint64{leaders[0], leaders[0], leaders[0]}, leaders, "one leader")
	assert.True(t, ids[leaders[0]])
	sort.Slice(self, func(i, j int) bool { return self[i] < self[j] })
	assert.Equal(t, []uint64{1, 2, 3}, self, "each endpoint is a different member")
}

// TestSnapshotRestore saves a snapshot through a follower with the client's
// Maintenance.Snapshot, restores it with `orrery snapshot restore` into three new data
// dirs, starts a new cluster on them and reads the data back, at the same revision.
func TestSnapshotRestore(t *testing.T) {
	bin := orreryBin(t)
	cl := newCluster(t, 3)
	cli := newClient(t, cl.endpoints(cl.follower()))
	ctx := testCtx(t, testTimeout)
	for i := range 20 {
		_, err := cli.Put(ctx, fmt.Sprintf("snap/%02d", i), strings.Repeat("x", i))
		require.NoError(t, err)
	}
	_, err := cli.Delete(ctx, "snap/00")
	require.NoError(t, err)
	before, err := cli.Get(ctx, "snap/", clientv3.WithPrefix())
	require.NoError(t, err)

	// A snapshot is of the serving member's applied state. Orrery answers a follower's
	// linearizable reads on the leader, so the follower may still be applying the delete
	// the Get above saw: wait for it, via its status.
	ep := cl.endpoints(cl.follower())[0]
	cli = newClient(t, []string{ep})
	require.Eventually(t, func() bool {
		st, err := cli.Status(ctx, ep)
		return err == nil && st.Header.Revision >= before.Header.Revision
	}, settle, 5*time.Millisecond)
	rc, err := cli.Snapshot(ctx)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "snap.db")
	f, err := os.Create(file)
	require.NoError(t, err)
	_, err = f.ReadFrom(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	require.NoError(t, f.Close())

	addrs := freeAddrs(t, 6)
	clients, peers := addrs[:3], addrs[3:]
	var parts, dirs []string
	for i := range 3 {
		parts = append(parts, fmt.Sprintf("n%d=http://%s", i+1, peers[i]))
		dirs = append(dirs, filepath.Join(t.TempDir(), "data"))
	}
	for i := range 3 {
		out, err := exec.Command(bin, "snapshot", "restore", file, "--name", fmt.Sprintf("n%d", i+1),
			"--data-dir", dirs[i], "--initial-cluster", strings.Join(parts, ",")).CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.Contains(t, string(out), fmt.Sprintf("restored revision %d", before.Header.Revision))
	}

	restored := newCluster(t, 3, withLayout(clients, peers, dirs))
	rcli := newClient(t, restored.endpoints(restored.follower()))
	after, err := rcli.Get(ctx, "snap/", clientv3.WithPrefix())
	require.NoError(t, err)
	assert.Equal(t, before.Header.Revision, after.Header.Revision)
	require.Equal(t, len(before.Kvs), len(after.Kvs))
	for i := range before.Kvs {
		assert.Equal(t, before.Kvs[i].Key, after.Kvs[i].Key)
		assert.Equal(t, before.Kvs[i].Value, after.Kvs[i].Value)
		assert.Equal(t, before.Kvs[i].ModRevision, after.Kvs[i].ModRevision)
	}
	// The restored cluster takes writes.
	put, err := rcli.Put(ctx, "snap/new", "y")
	require.NoError(t, err)
	assert.Equal(t, before.Header.Revision+1, put.Header.Revision)
}
