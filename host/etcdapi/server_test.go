package etcdapi_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/orrery/orrery/host/etcdapi"
	"github.com/orrery/orrery/host/etcdapi/etcdapitest"
	"github.com/orrery/orrery/node/kv"
)

// cluster is one etcdapi server on loopback over an etcdapitest backend, and a clientv3
// client of it.
type cluster struct {
	addr string
	b    *etcdapitest.Backend
	srv  *etcdapi.Server
	cli  *clientv3.Client
}

func start(t *testing.T, cfg etcdapitest.Config, opts etcdapi.Options) *cluster {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	c := &cluster{addr: lis.Addr().String()}
	cfg.ClientURLs = []string{"http://" + c.addr}
	if cfg.KV.MinLeaseTTL == 0 {
		cfg.KV.MinLeaseTTL = 1
	}
	c.b = etcdapitest.New(cfg)
	c.srv = etcdapi.NewServer(c.b, opts)
	served := make(chan error, 1)
	go func() { served <- c.srv.Serve(lis) }()
	t.Cleanup(func() {
		c.srv.Stop()
		require.NoError(t, <-served)
		c.b.Close()
	})
	c.cli = newClient(t, c.addr)
	return c
}

func newClient(t *testing.T, addr string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{addr}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestPutGetRangeDelete(t *testing.T) {
	c := start(t, etcdapitest.Config{}, etcdapi.Options{})
	ctx := ctxT(t)
	for i, k := range []string{"app/a", "app/b", "app/c", "other"} {
		resp, err := c.cli.Put(ctx, k, strings.Repeat("v", i+1))
		require.NoError(t, err)
		require.Equal(t, int64(i+2), resp.Header.Revision)
		require.Equal(t, uint64(etcdapitest.DefaultClusterID), resp.Header.ClusterId)
		require.Equal(t, uint64(etcdapitest.DefaultMemberID), resp.Header.MemberId)
		require.Equal(t, uint64(1), resp.Header.RaftTerm)
	}

	get, err := c.cli.Get(ctx, "app/b")
	require.NoError(t, err)
	require.Len(t, get.Kvs, 1)
	require.Equal(t, "vv", string(get.Kvs[0].Value))
	require.Equal(t, int64(3), get.Kvs[0].CreateRevision)
	require.Equal(t, int64(5), get.Header.Revision)

	pre, err := c.cli.Get(ctx, "app/", clientv3.WithPrefix())
	require.NoError(t, err)
	require.Equal(t, int64(3), pre.Count)
	require.Equal(t, []string{"app/a", "app/b", "app/c"}, keys(pre.Kvs))

	lim, err := c.cli.Get(ctx, "app/", clientv3.WithPrefix(), clientv3.WithLimit(2),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
	require.NoError(t, err)
	require.True(t, lim.More)
	require.Equal(t, []string{"app/c", "app/b"}, keys(lim.Kvs))

	cnt, err := c.cli.Get(ctx, "", clientv3.WithFromKey(), clientv3.WithCountOnly())
	require.NoError(t, err)
	require.Equal(t, int64(4), cnt.Count)
	require.Empty(t, cnt.Kvs)

	old, err := c.cli.Get(ctx, "app/", clientv3.WithPrefix(), clientv3.WithRev(3))
	require.NoError(t, err)
	require.Equal(t, []string{"app/a", "app/b"}, keys(old.Kvs))

	ser, err := c.cli.Get(ctx, "app/a", clientv3.WithSerializable())
	require.NoError(t, err)
	require.Equal(t, "v", string(ser.Kvs[0].Value))

	put, err := c.cli.Put(ctx, "app/a", "new", clientv3.WithPrevKV())
	require.NoError(t, err)
	require.Equal(t, "v", string(put.PrevKv.Value))

	del, err := c.cli.Delete(ctx, "app/", clientv3.WithPrefix(), clientv3.WithPrevKV())
	require.NoError(t, err)
	require.Equal(t, int64(3), del.Deleted)
	require.Equal(t, []string{"app/a", "app/b", "app/c"}, keys(del.PrevKvs))

	gone, err := c.cli.Get(ctx, "app/", clientv3.WithPrefix())
	require.NoError(t, err)
	require.Zero(t, gone.Count)
}

func keys[T interface{ GetKey() []byte }](kvs []T) []string {
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = string(kv.GetKey())
	}
	return out
}

func TestTxn(t *testing.T) {
	c := start(t, etcdapitest.Config{}, etcdapi.Options{})
	ctx := ctxT(t)
	_, err := c.cli.Put(ctx, "k", "1")
	require.NoError(t, err)

	cas := func(from, to string) *clientv3.TxnResponse {
		resp, err := c.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.Value("k"), "=", from)).
			Then(clientv3.OpPut("k", to), clientv3.OpGet("k")).
			Else(clientv3.OpGet("k")).
			Commit()
		require.NoError(t, err)
		return resp
	}
	ok := cas("1", "2")
	require.True(t, ok.Succeeded)
	require.Equal(t, "2", string(ok.Responses[1].GetResponseRange().Kvs[0].Value))
	require.Equal(t, int64(3), ok.Header.Revision)
	bad := cas("1", "3")
	require.False(t, bad.Succeeded)
	require.Equal(t, "2", string(bad.Responses[0].GetResponseRange().Kvs[0].Value))

	// A read-only txn is a query: no new revision.
	ro, err := c.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision("absent"), "=", 0)).
		Then(clientv3.OpGet("k", clientv3.WithSerializable())).Commit()
	require.NoError(t, err)
	require.True(t, ro.Succeeded)
	require.Equal(t, int64(3), ro.Header.Revision)

	_, err = c.cli.Txn(ctx).Then(clientv3.OpPut("d", "1"), clientv3.OpPut("d", "2")).Commit()
	require.ErrorIs(t, err, rpctypes.ErrDuplicateKey)

	ops := make([]clientv3.Op, kv.DefaultMaxTxnOps+1)
	for i := range ops {
		ops[i] = clientv3.OpGet("k")
	}
	_, err = c.cli.Txn(ctx).Then(ops...).Commit()
	require.ErrorIs(t, err, rpctypes.ErrTooManyOps)
}

func TestErrors(t *testing.T) {
	c := start(t, etcdapitest.Config{}, etcdapi.Options{})
	ctx := ctxT(t)
	for range 4 {
		_, err := c.cli.Put(ctx, "k", "v")
		require.NoError(t, err)
	}
	_, err := c.cli.Compact(ctx, 4)
	require.NoError(t, err)

	_, err = c.cli.Get(ctx, "k", clientv3.WithRev(2))
	require.ErrorIs(t, err, rpctypes.ErrCompacted)
	_, err = c.cli.Get(ctx, "k", clientv3.WithRev(100))
	require.ErrorIs(t, err, rpctypes.ErrFutureRev)
	_, err = c.cli.Put(ctx, "k", "v", clientv3.WithLease(12345))
	require.ErrorIs(t, err, rpctypes.ErrLeaseNotFound)
	_, err = c.cli.Put(ctx, "", "v")
	require.ErrorIs(t, err, rpctypes.ErrEmptyKey)
	_, err = c.cli.Put(ctx, "missing", "", clientv3.WithIgnoreValue())
	require.ErrorIs(t, err, rpctypes.ErrKeyNotFound)
	_, err = c.cli.Revoke(ctx, 777)
	require.ErrorIs(t, err, rpctypes.ErrLeaseNotFound)
}

func TestRequestTooLarge(t *testing.T) {
	c := start(t, etcdapitest.Config{}, etcdapi.Options{})
	ctx := ctxT(t)
	big := strings.Repeat("x", etcdapi.DefaultMaxRequestBytes+1024)
	_, err := c.cli.Put(ctx, "big", big)
	require.ErrorIs(t, err, rpctypes.ErrRequestTooLarge)

	_, err = c.cli.Put(ctx, "small", "ok")
	require.NoError(t, err)
	// Just under the limit is fine.
	_, err = c.cli.Put(ctx, "almost", big[:etcdapi.DefaultMaxRequestBytes-100])
	require.NoError(t, err)
	got, err := c.cli.Get(ctx, "big")
	require.NoError(t, err)
	require.Zero(t, got.Count)
}

func TestRequireLeader(t *testing.T) {
	c := start(t, etcdapitest.Config{}, etcdapi.Options{})
	ctx := ctxT(t)
	c.b.SetLeader(false)
	// A put: clientv3 retries an Unavailable read for a while, never a write.
	_, err := c.cli.Put(clientv3.WithRequireLeader(ctx), "k", "v")
	require.ErrorIs(t, err, rpctypes.ErrNoLeader)
	st, err := c.cli.Status(ctx, c.addr)
	require.NoError(t, err)
	require.Contains(t, st.Errors, "etcdserver: no leader")
	c.b.SetLeader(true)
	_, err = c.cli.Get(clientv3.WithRequireLeader(ctx), "k")
	require.NoError(t, err)
}
