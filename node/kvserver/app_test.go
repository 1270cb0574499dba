package kvserver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/node/bugs"
	"github.com/orrery/orrery/node/kv"
)

func apply(t *testing.T, a *App, cmd kv.Command) kv.Reply {
	t.Helper()
	r, err := kv.DecodeReply(a.Apply(cmd.Encode()))
	require.NoError(t, err)
	return r
}

func read(t *testing.T, a *App, q kv.Query) kv.Answer {
	t.Helper()
	ans, err := kv.DecodeAnswer(a.Read(q.Encode()))
	require.NoError(t, err)
	return ans
}

func grant(t *testing.T, a *App, ttl int64) kv.LeaseID {
	t.Helper()
	r := apply(t, a, kv.Command{LeaseGrant: &kv.LeaseGrantRequest{TTL: ttl}})
	require.NoError(t, r.Err)
	return r.LeaseGrant.ID
}

// TestLeaseLifecycle drives one member through a lease's life: granted, kept alive by
// the leader, proposed for expiry once past its deadline (once per expiryRetry), and
// revoked with its keys when the expiry is applied.
func TestLeaseLifecycle(t *testing.T) {
	a := New(kv.Config{})
	a.Now(0)
	a.Lead(true)
	id := grant(t, a, 5)
	require.NoError(t, apply(t, a, kv.Command{Put: &kv.PutRequest{Key: []byte("k"), Value: []byte("v"), Lease: id}}).Err)

	a.Now(4 * time.Second)
	require.Empty(t, a.Due())
	ka := read(t, a, kv.Query{KeepAlive: id})
	require.NoError(t, ka.Err)
	require.Equal(t, int64(5), ka.KeepAlive.TTL)

	a.Now(8 * time.Second) // 4 s after the renewal: still alive
	require.Empty(t, a.Due())
	ttl := read(t, a, kv.Query{TimeToLive: &kv.LeaseTimeToLiveRequest{ID: id, Keys: true}})
	require.Equal(t, int64(1), ttl.TimeToLive.TTL)
	require.Equal(t, [][]byte{[]byte("k")}, ttl.TimeToLive.Keys)

	a.Now(9 * time.Second)
	due := a.Due()
	require.Len(t, due, 1)
	require.Empty(t, a.Due(), "an expiry in flight is not proposed again at once")
	a.Now(9*time.Second + expiryRetry)
	require.Len(t, a.Due(), 1, "a lost expiry is proposed again")

	cmd, err := kv.DecodeCommand(due[0])
	require.NoError(t, err)
	require.Equal(t, []kv.LeaseID{id}, cmd.LeaseExpire.IDs)
	r := apply(t, a, cmd)
	require.Equal(t, []kv.LeaseID{id}, r.LeaseExpire.Revoked)
	require.Equal(t, "lease-expired", a.Notes()[0].Kind)
	got := read(t, a, kv.Query{Range: &kv.RangeRequest{Key: []byte("k")}})
	require.Empty(t, got.Range.KVs, "the lease's key goes with it")
	require.Empty(t, a.Due())
}

// TestKeepAliveNeedsLeader: a follower's Lessor is not primary, so neither a Read on a
// follower nor a Local query anywhere renews a lease.
func TestKeepAliveNeedsLeader(t *testing.T) {
	a := New(kv.Config{})
	id := grant(t, a, 5)
	require.ErrorIs(t, read(t, a, kv.Query{KeepAlive: id}).Err, kv.ErrNotLeader)
	require.Empty(t, a.Due(), "followers propose no expiries")
	a.Lead(true)
	q := kv.Query{KeepAlive: id}
	ans, err := kv.DecodeAnswer(a.Local(q.Encode(), true))
	require.NoError(t, err)
	require.ErrorIs(t, ans.Err, kv.ErrNotLeader)
}

// TestNewLeaderExtends: a member that becomes leader long after it applied a grant gives
// the lease a full TTL from its promotion; with kv.lease-early it expires it at once.
func TestNewLeaderExtends(t *testing.T) {
	for _, bug := range []bool{false, true} {
		cfg := kv.Config{}
		if bug {
			cfg.Bugs = bugs.With(kv.BugLeaseEarly)
		}
		a := New(cfg)
		id := grant(t, a, 5)
		a.Now(30 * time.Second)
		a.Lead(true)
		if bug {
			require.Len(t, a.Due(), 1)
			continue
		}
		require.Empty(t, a.Due())
		a.Now(35 * time.Second)
		require.Len(t, a.Due(), 1)
		ttl := read(t, a, kv.Query{TimeToLive: &kv.LeaseTimeToLiveRequest{ID: id}})
		require.Equal(t, int64(0), ttl.TimeToLive.TTL)
	}
}

// TestWatchStream: a subscription replays history and pushes new events; a second
// subscription by the same client replaces the first.
func TestWatchStream(t *testing.T) {
	a := New(kv.Config{})
	apply(t, a, kv.Command{Put: &kv.PutRequest{Key: []byte("a"), Value: []byte("1")}})
	sub := kv.EncodeWatchRequest(kv.WatchRequest{Key: []byte("a"), StartRevision: 1})
	ok, err := kv.DecodeAnswer(a.Subscribe(7, sub))
	require.NoError(t, err)
	require.NoError(t, ok.Err)
	out := a.Outbox()
	require.Len(t, out, 1)
	require.Equal(t, uint64(7), out[0].Client)
	resp, err := kv.DecodeWatchResponse(out[0].Data)
	require.NoError(t, err)
	require.Equal(t, int64(2), resp.Events[0].KV.ModRevision)

	a.Subscribe(7, kv.EncodeWatchRequest(kv.WatchRequest{Key: []byte("b")}))
	apply(t, a, kv.Command{Put: &kv.PutRequest{Key: []byte("a"), Value: []byte("2")}})
	require.Empty(t, a.Outbox(), "the replaced watch on a is gone")
	apply(t, a, kv.Command{Put: &kv.PutRequest{Key: []byte("b"), Value: []byte("1")}})
	require.Len(t, a.Outbox(), 1)
}

func TestMalformedInputIsRefused(t *testing.T) {
	a := New(kv.Config{})
	r, err := kv.DecodeReply(a.Apply([]byte{9, 9}))
	require.NoError(t, err)
	require.ErrorIs(t, r.Err, kv.ErrMalformed)
	ans, err := kv.DecodeAnswer(a.Read([]byte{0xff}))
	require.NoError(t, err)
	require.ErrorIs(t, ans.Err, kv.ErrMalformed)
	require.Equal(t, int64(1), a.Store().Rev(), "nothing changed")
}

func TestWatchCancelAndProgress(t *testing.T) {
	a := New(kv.Config{})
	ans, err := kv.DecodeAnswer(a.Subscribe(3, ProgressRequest))
	require.NoError(t, err)
	require.ErrorIs(t, ans.Err, kv.ErrWatcherNotExist)

	a.Subscribe(3, kv.EncodeWatchRequest(kv.WatchRequest{Key: []byte("a")}))
	apply(t, a, kv.Command{Put: &kv.PutRequest{Key: []byte("b"), Value: []byte("1")}})
	require.Empty(t, a.Outbox())
	ans, err = kv.DecodeAnswer(a.Subscribe(3, ProgressRequest))
	require.NoError(t, err)
	require.NoError(t, ans.Err)
	out := a.Outbox()
	require.Len(t, out, 1)
	resp, err := kv.DecodeWatchResponse(out[0].Data)
	require.NoError(t, err)
	require.Empty(t, resp.Events, "a progress notification")
	require.Equal(t, int64(2), resp.Header.Revision)

	a.Subscribe(3, nil) // cancel
	apply(t, a, kv.Command{Put: &kv.PutRequest{Key: []byte("a"), Value: []byte("1")}})
	require.Empty(t, a.Outbox())
}
