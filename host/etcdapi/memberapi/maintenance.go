package memberapi

import (
	"bytes"
	"context"
	"io"
	"slices"
	"time"

	"github.com/orrery/orrery/host/etcdapi"
	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/kv"
	"github.com/orrery/orrery/node/kvserver"
	"github.com/orrery/orrery/node/rsm"
)

// Snapshot implements etcdapi.Snapshotter: the member's applied key-value state, taken on
// the member's loop so that it is consistent.
func (a *API) Snapshot(ctx context.Context) (io.ReadCloser, error) {
	var b []byte
	if !a.m.Do(func(_ *rsm.Server, app *kvserver.App) { b = app.Snapshot() }) {
		return nil, etcdapi.ErrStopped
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// MoveLeader implements etcdapi.LeaderMover.
func (a *API) MoveLeader(ctx context.Context, target uint64) error {
	if !slices.ContainsFunc(a.m.Table(), func(x rsm.Member) bool { return x.ID == target && !x.Learner }) {
		return etcdapi.ErrBadLeaderTransferee
	}
	var err error
	if !a.m.Do(func(srv *rsm.Server, _ *kvserver.App) {
		if !a.m.Status().IsLeader {
			err = kv.ErrNotLeader
			return
		}
		// The transfer goes out with the next Ready, at the next tick.
		err = srv.TransferLeader(c.NodeID(target))
	}) {
		return etcdapi.ErrStopped
	}
	if err != nil {
		return err
	}
	ctx, cancel := a.bound(ctx)
	defer cancel()
	for a.m.Status().Leader != target {
		select {
		case <-ctx.Done():
			return etcdapi.ErrTimeoutDueToLeaderFail
		case <-time.After(a.cfg.Tick):
		}
	}
	return nil
}
