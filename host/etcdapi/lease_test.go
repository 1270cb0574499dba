package etcdapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/orrery/orrery/host/etcdapi"
	"github.com/orrery/orrery/host/etcdapi/etcdapitest"
)

func TestLease(t *testing.T) {
	c := start(t, etcdapitest.Config{}, etcdapi.Options{})
	ctx := ctxT(t)
	g, err := c.cli.Grant(ctx, 30)
	require.NoError(t, err)
	require.Equal(t, int64(30), g.TTL)
	_, err = c.cli.Put(ctx, "leased", "v", clientv3.WithLease(g.ID))
	require.NoError(t, err)

	ttl, err := c.cli.TimeToLive(ctx, g.ID, clientv3.WithAttachedKeys())
	require.NoError(t, err)
	require.Equal(t, int64(30), ttl.GrantedTTL)
	require.InDelta(t, 30, ttl.TTL, 1)
	require.Equal(t, [][]byte{[]byte("leased")}, ttl.Keys)

	ka, err := c.cli.KeepAliveOnce(ctx, g.ID)
	require.NoError(t, err)
	require.Equal(t, int64(30), ka.TTL)

	kch, err := c.cli.KeepAlive(ctx, g.ID)
	require.NoError(t, err)
	select {
	case r := <-kch:
		require.NotNil(t, r)
		require.Equal(t, g.ID, r.ID)
	case <-time.After(5 * time.Second):
		t.Fatal("no keep-alive response")
	}

	ls, err := c.cli.Leases(ctx)
	require.NoError(t, err)
	require.Len(t, ls.Leases, 1)
	require.Equal(t, g.ID, ls.Leases[0].ID)

	_, err = c.cli.Revoke(ctx, g.ID)
	require.NoError(t, err)
	got, err := c.cli.Get(ctx, "leased")
	require.NoError(t, err)
	require.Zero(t, got.Count)

	gone, err := c.cli.TimeToLive(ctx, g.ID)
	require.NoError(t, err)
	require.Equal(t, int64(-1), gone.TTL)
	_, err = c.cli.KeepAliveOnce(ctx, g.ID)
	require.ErrorIs(t, err, rpctypes.ErrLeaseNotFound)

	_, err = c.cli.Grant(ctx, 9_000_000_001)
	require.ErrorIs(t, err, rpctypes.ErrLeaseTTLTooLarge)
}

func TestLeaseExpiry(t *testing.T) {
	c := start(t, etcdapitest.Config{}, etcdapi.Options{})
	ctx := ctxT(t)
	g, err := c.cli.Grant(ctx, 1)
	require.NoError(t, err)
	put, err := c.cli.Put(ctx, "ephemeral", "v", clientv3.WithLease(g.ID))
	require.NoError(t, err)
	wch := c.cli.Watch(ctx, "ephemeral", clientv3.WithRev(put.Header.Revision+1))
	start := time.Now()
	resp := next(t, wch)
	require.Len(t, resp.Events, 1)
	require.Equal(t, mvccpb.DELETE, resp.Events[0].Type)
	require.GreaterOrEqual(t, time.Since(start), 500*time.Millisecond)
	ttl, err := c.cli.TimeToLive(ctx, g.ID)
	require.NoError(t, err)
	require.Equal(t, int64(-1), ttl.TTL)
}

func TestMutex(t *testing.T) {
	c := start(t, etcdapitest.Config{}, etcdapi.Options{})
	ctx := ctxT(t)
	s1, err := concurrency.NewSession(c.cli, concurrency.WithTTL(5))
	require.NoError(t, err)
	defer s1.Close()
	s2, err := concurrency.NewSession(newClient(t, c.addr), concurrency.WithTTL(5))
	require.NoError(t, err)
	defer s2.Close()

	m1 := concurrency.NewMutex(s1, "/lock/")
	m2 := concurrency.NewMutex(s2, "/lock/")
	require.NoError(t, m1.Lock(ctx))
	require.ErrorIs(t, m2.TryLock(ctx), concurrency.ErrLocked)

	locked := make(chan error, 1)
	go func() { locked <- m2.Lock(ctx) }()
	select {
	case err := <-locked:
		t.Fatalf("second lock acquired while the first is held: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	require.NoError(t, m1.Unlock(ctx))
	select {
	case err := <-locked:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("second lock not acquired after unlock")
	}
	require.Greater(t, m2.Header().Revision, int64(0))
	require.NoError(t, m2.Unlock(ctx))
}

func TestElection(t *testing.T) {
	c := start(t, etcdapitest.Config{}, etcdapi.Options{})
	ctx := ctxT(t)
	s1, err := concurrency.NewSession(c.cli, concurrency.WithTTL(5))
	require.NoError(t, err)
	defer s1.Close()
	s2, err := concurrency.NewSession(newClient(t, c.addr), concurrency.WithTTL(5))
	require.NoError(t, err)
	defer s2.Close()

	e1 := concurrency.NewElection(s1, "/election/")
	e2 := concurrency.NewElection(s2, "/election/")
	require.NoError(t, e1.Campaign(ctx, "one"))

	octx, cancel := context.WithCancel(ctx)
	defer cancel()
	obs := e1.Observe(octx)
	require.Equal(t, "one", string((<-obs).Kvs[0].Value))

	won := make(chan error, 1)
	go func() { won <- e2.Campaign(ctx, "two") }()
	select {
	case err := <-won:
		t.Fatalf("second campaign won while the first leads: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	leader, err := e2.Leader(ctx)
	require.NoError(t, err)
	require.Equal(t, "one", string(leader.Kvs[0].Value))

	require.NoError(t, e1.Resign(ctx))
	select {
	case err := <-won:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("second campaign did not win after the first resigned")
	}
	select {
	case r := <-obs:
		require.Equal(t, "two", string(r.Kvs[0].Value))
	case <-time.After(5 * time.Second):
		t.Fatal("observer did not see the new leader")
	}
	require.NoError(t, e2.Proclaim(ctx, "two again"))
	leader, err = e1.Leader(ctx)
	require.NoError(t, err)
	require.Equal(t, "two again", string(leader.Kvs[0].Value))
}
