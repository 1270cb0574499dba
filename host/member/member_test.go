package member_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/host/etcdapi/memberapi"
	"github.com/orrery/orrery/host/member"
	"github.com/orrery/orrery/node/kv"
)

// freeAddrs reserves n loopback ports.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		out = append(out, l.Addr().String())
		require.NoError(t, l.Close())
	}
	return out
}

type cluster struct {
	t     *testing.T
	peers []member.Peer
	dirs  []string
	ms    []*member.Member
}

func newCluster(t *testing.T, n int) *cluster {
	cl := &cluster{t: t}
	for i, a := range freeAddrs(t, n) {
		cl.peers = append(cl.peers, member.Peer{ID: uint64(i + 1), Name: fmt.Sprintf("n%d", i+1), Addr: a})
		cl.dirs = append(cl.dirs, t.TempDir())
	}
	cl.ms = make([]*member.Member, n)
	for i := range cl.ms {
		cl.start(i)
	}
	t.Cleanup(func() {
		for _, m := range cl.ms {
			if m != nil {
				m.Stop()
			}
		}
	})
	return cl
}

func (cl *cluster) start(i int) {
	m, err := member.Start(member.Config{ID: uint64(i + 1), Peers: cl.peers, DataDir: cl.dirs[i], Tick: 10 * time.Millisecond, SnapshotEvery: 50})
	require.NoError(cl.t, err)
	cl.ms[i] = m
}

func (cl *cluster) leader() int {
	var lead int
	require.Eventually(cl.t, func() bool {
		for i, m := range cl.ms {
			if m != nil && m.Status().IsLeader {
				lead = i
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond)
	return lead
}

func put(ctx context.Context, m *member.Member, k, v string) error {
	r, err := memberapi.New(m).Write(ctx, kv.Command{Put: &kv.PutRequest{Key: []byte(k), Value: []byte(v)}})
	if err == nil {
		err = r.Err
	}
	return err
}

func get(t *testing.T, m *member.Member, k string, serializable bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a, err := memberapi.New(m).Query(ctx, kv.Query{Range: &kv.RangeRequest{Key: []byte(k)}}, serializable)
	require.NoError(t, err)
	require.NoError(t, a.Err)
	if len(a.Range.KVs) == 0 {
		return ""
	}
	return string(a.Range.KVs[0].Value)
}

// TestClusterSurvivesRestarts writes through every member (followers forward to the
// leader), stops the leader and a follower in turn, restarts them from their data dirs,
// and checks that every acknowledged write is there and all members hash alike.
func TestClusterSurvivesRestarts(t *testing.T) {
	cl := newCluster(t, 3)
	cl.leader()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	acked := map[string]string{}
	write := func(round int) {
		for i := range 60 {
			m := cl.ms[i%3]
			if m == nil {
				continue
			}
			k, v := fmt.Sprintf("k%02d", i%20), fmt.Sprintf("r%d-%d", round, i)
			opCtx, cancel := context.WithTimeout(ctx, time.Second)
			err := put(opCtx, m, k, v)
			cancel()
			switch {
			case err == nil:
				acked[k] = v
			case acked[k] != "":
				// Unknown outcome: the key may now hold v or its old value; forget it
				// rather than guess.
				delete(acked, k)
			}
		}
	}
	write(0)
	for round, victim := range []int{cl.leader(), (cl.leader() + 1) % 3} {
		cl.ms[victim].Stop()
		cl.ms[victim] = nil
		write(round + 1)
		cl.start(victim)
		cl.leader()
	}
	write(9)
	lead := cl.ms[cl.leader()]
	for k, v := range acked {
		require.Equal(t, v, get(t, lead, k, false), k)
	}
	// Every member catches up and hashes alike.
	require.Eventually(t, func() bool {
		var hashes []uint32
		for _, m := range cl.ms {
			a, err := memberapi.New(m).Query(ctx, kv.Query{HashKV: &kv.HashKVRequest{}}, true)
			if err != nil || a.Err != nil || a.HashKV.Header.Revision != lead.Status().Revision {
				return false
			}
			hashes = append(hashes, a.HashKV.Hash)
		}
		return hashes[0] == hashes[1] && hashes[1] == hashes[2]
	}, 10*time.Second, 20*time.Millisecond)
}

func TestDataDirIsLocked(t *testing.T) {
	cl := newCluster(t, 1)
	_, err := member.Start(member.Config{ID: 1, Peers: cl.peers, DataDir: cl.dirs[0]})
	require.ErrorContains(t, err, "in use")
}

func TestWatchAcrossMembers(t *testing.T) {
	cl := newCluster(t, 3)
	cl.leader()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	follower := cl.ms[(cl.leader()+1)%3]
	ch, err := memberapi.New(follower).Watch(ctx, kv.WatchRequest{Key: []byte("w"), RangeEnd: kv.Prefix([]byte("w"))})
	require.NoError(t, err)
	for i := range 5 {
		require.NoError(t, put(ctx, cl.ms[i%3], fmt.Sprintf("w%d", i), "x"))
	}
	var got []string
	for len(got) < 5 {
		select {
		case resp := <-ch:
			for _, ev := range resp.Events {
				got = append(got, string(ev.KV.Key))
			}
		case <-ctx.Done():
			t.Fatalf("watch saw %v", got)
		}
	}
	require.Equal(t, []string{"w0", "w1", "w2", "w3", "w4"}, got)
}

func TestWatchProgress(t *testing.T) {
	cl := newCluster(t, 1)
	cl.leader()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m := cl.ms[0]
	require.NoError(t, put(ctx, m, "other", "x"))
	api := memberapi.New(m)
	ch, err := api.Watch(ctx, kv.WatchRequest{Key: []byte("w"), StartRevision: 1})
	require.NoError(t, err)
	require.NoError(t, api.RequestProgress(ctx, ch))
	select {
	case resp := <-ch:
		require.Empty(t, resp.Events)
		require.Equal(t, int64(2), resp.Header.Revision)
	case <-ctx.Done():
		t.Fatal("no progress notification")
	}
}
