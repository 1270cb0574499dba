package etcdapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/orrery/orrery/host/etcdapi"
	"github.com/orrery/orrery/host/etcdapi/etcdapitest"
)

// next returns the next response of a watch, failing after a few seconds.
func next(t *testing.T, wch clientv3.WatchChan) clientv3.WatchResponse {
	t.Helper()
	select {
	case resp, ok := <-wch:
		require.True(t, ok, "watch channel closed")
		return resp
	case <-time.After(5 * time.Second):
		t.Fatal("no watch response within 5s")
	}
	return clientv3.WatchResponse{}
}

func TestWatch(t *testing.T) {
	c := start(t, etcdapitest.Config{}, etcdapi.Options{})
	ctx := ctxT(t)
	wch := c.cli.Watch(ctx, "w/", clientv3.WithPrefix(), clientv3.WithPrevKV())
	// A second watch on the same stream, filtered.
	dch := c.cli.Watch(ctx, "w/", clientv3.WithPrefix(), clientv3.WithFilterPut())

	_, err := c.cli.Put(ctx, "w/a", "1")
	require.NoError(t, err)
	_, err = c.cli.Put(ctx, "other", "x")
	require.NoError(t, err)
	_, err = c.cli.Put(ctx, "w/a", "2")
	require.NoError(t, err)
	_, err = c.cli.Delete(ctx, "w/a")
	require.NoError(t, err)

	var evs []*clientv3.Event
	for len(evs) < 3 {
		resp := next(t, wch)
		require.NoError(t, resp.Err())
		evs = append(evs, resp.Events...)
	}
	require.Len(t, evs, 3)
	require.True(t, evs[0].IsCreate())
	require.Equal(t, int64(2), evs[0].Kv.ModRevision)
	require.Nil(t, evs[0].PrevKv)
	require.True(t, evs[1].IsModify())
	require.Equal(t, "1", string(evs[1].PrevKv.Value))
	require.Equal(t, mvccpb.DELETE, evs[2].Type)
	require.Equal(t, "2", string(evs[2].PrevKv.Value))

	del := next(t, dch)
	require.Len(t, del.Events, 1)
	require.Equal(t, mvccpb.DELETE, del.Events[0].Type)
	require.Equal(t, int64(5), del.Events[0].Kv.ModRevision)
	require.Equal(t, int64(5), del.Header.Revision)
}

func TestWatchFromRevisionAndCompacted(t *testing.T) {
	c := start(t, etcdapitest.Config{}, etcdapi.Options{})
	ctx := ctxT(t)
	for _, v := range []string{"1", "2", "3", "4"} {
		_, err := c.cli.Put(ctx, "k", v)
		require.NoError(t, err)
	}
	// Resume from revision 3: the history replays.
	resp := next(t, c.cli.Watch(ctx, "k", clientv3.WithRev(3)))
	require.Len(t, resp.Events, 3)
	require.Equal(t, "2", string(resp.Events[0].Kv.Value))
	require.Equal(t, int64(3), resp.Events[0].Kv.ModRevision)

	_, err := c.cli.Compact(ctx, 4)
	require.NoError(t, err)
	wch := c.cli.Watch(ctx, "k", clientv3.WithRev(2))
	resp = next(t, wch)
	require.True(t, resp.Canceled)
	require.Equal(t, int64(4), resp.CompactRevision)
	require.ErrorIs(t, resp.Err(), rpctypes.ErrCompacted)
	_, ok := <-wch
	require.False(t, ok, "a compacted watch is closed")

	// From the compaction revision on, it works again.
	resp = next(t, c.cli.Watch(ctx, "k", clientv3.WithRev(4)))
	require.Len(t, resp.Events, 2)
}

func TestWatchCreatedRevisionAndCancel(t *testing.T) {
	c := start(t, etcdapitest.Config{}, etcdapi.Options{})
	ctx := ctxT(t)
	_, err := c.cli.Put(ctx, "k", "1")
	require.NoError(t, err)
	wctx, cancel := context.WithCancel(ctx)
	wch := c.cli.Watch(wctx, "k", clientv3.WithCreatedNotify())
	created := next(t, wch)
	require.True(t, created.Created)
	require.Equal(t, int64(2), created.Header.Revision)
	cancel()
	for range wch { // drains and closes once cancelled
	}
	// The stream stays usable for other watches.
	wch2 := c.cli.Watch(ctx, "k")
	_, err = c.cli.Put(ctx, "k", "2")
	require.NoError(t, err)
	require.Equal(t, "2", string(next(t, wch2).Events[0].Kv.Value))
}

func TestWatchProgress(t *testing.T) {
	c := start(t, etcdapitest.Config{}, etcdapi.Options{ProgressNotifyInterval: 100 * time.Millisecond})
	ctx := ctxT(t)
	wch := c.cli.Watch(ctx, "quiet", clientv3.WithCreatedNotify())
	require.True(t, next(t, wch).Created)
	_, err := c.cli.Put(ctx, "busy", "1")
	require.NoError(t, err)

	require.NoError(t, c.cli.RequestProgress(ctx))
	resp := next(t, wch)
	require.True(t, resp.IsProgressNotify())
	require.Equal(t, int64(2), resp.Header.Revision)

	// progress_notify: an idle watch hears from the server every interval.
	pch := c.cli.Watch(ctx, "quiet2", clientv3.WithProgressNotify())
	resp = next(t, pch)
	require.True(t, resp.IsProgressNotify())
	require.Equal(t, int64(2), resp.Header.Revision)
}
