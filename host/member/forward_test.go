package member_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/host/etcdapi/memberapi"
	"github.com/orrery/orrery/host/member"
	"github.com/orrery/orrery/jepsen/faultproxy"
	"github.com/orrery/orrery/node/kv"
)

// TestDuplicatedForwardIsAppliedOnce puts a fault proxy in front of every member's peer
// port that sends every frame twice, then writes through followers: each forwarded put
// reaches the leader twice (and the leader proposes both copies), yet the session table
// applies it once. Shown by its revision (one revision per put, the store's revision
// moves by one) and by a watch from the start (one event per put).
func TestDuplicatedForwardIsAppliedOnce(t *testing.T) {
	real := freeAddrs(t, 3)
	cl := &cluster{t: t}
	var proxies []*faultproxy.Proxy
	for i := range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		upstream := real[i]
		p := faultproxy.New(ln, func(ctx context.Context) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", upstream)
		}, true, uint64(i+1), nil)
		p.Set(faultproxy.Faults{Duplicate: 1})
		proxies = append(proxies, p)
		t.Cleanup(func() { p.Close() })
		cl.peers = append(cl.peers, member.Peer{ID: uint64(i + 1), Name: fmt.Sprintf("n%d", i+1), Addr: ln.Addr().String()})
		cl.dirs = append(cl.dirs, t.TempDir())
	}
	cl.ms = make([]*member.Member, 3)
	for i := range cl.ms {
		m, err := member.Start(member.Config{ID: uint64(i + 1), Peers: cl.peers, DataDir: cl.dirs[i], ListenPeer: real[i], Tick: 10 * time.Millisecond})
		require.NoError(t, err)
		cl.ms[i] = m
		t.Cleanup(m.Stop)
	}
	lead := cl.leader()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, put(ctx, cl.ms[lead], "start", "0"))
	start := cl.ms[lead].Status().Revision

	const puts = 20
	var revs []int64
	for i := range puts {
		f := cl.ms[(lead+1+i%2)%3] // a follower: its put is forwarded
		r, err := memberapi.New(f).Write(ctx, kv.Command{Put: &kv.PutRequest{Key: []byte("dup"), Value: fmt.Appendf(nil, "v%d", i)}})
		require.NoError(t, err)
		require.NoError(t, r.Err)
		revs = append(revs, r.Put.Header.Revision)
	}
	for i, rev := range revs {
		assert.Equal(t, start+int64(i+1), rev, "put %d: one revision per put", i)
	}
	var dup uint64
	for _, p := range proxies {
		dup += p.Stats().Duplicated
	}
	require.NotZero(t, dup, "the proxies duplicated frames")

	ch, err := memberapi.New(cl.ms[lead]).Watch(ctx, kv.WatchRequest{Key: []byte("dup"), StartRevision: 1})
	require.NoError(t, err)
	var events []kv.Event
	for len(events) < puts {
		select {
		case resp := <-ch:
			events = append(events, resp.Events...)
		case <-ctx.Done():
			t.Fatalf("watch delivered %d of %d events", len(events), puts)
		}
	}
	require.Len(t, events, puts)
	for i, ev := range events {
		assert.Equal(t, fmt.Sprintf("v%d", i), string(ev.KV.Value), "event %d", i)
		assert.Equal(t, revs[i], ev.KV.ModRevision, "event %d", i)
	}
	// Nothing else was applied after the last put, on any member.
	require.Eventually(t, func() bool {
		for _, m := range cl.ms {
			if m.Status().Revision != revs[puts-1] {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond)
	t.Logf("%d frames duplicated; %d forwarded puts at revisions %d..%d", dup, puts, revs[0], revs[puts-1])
}
