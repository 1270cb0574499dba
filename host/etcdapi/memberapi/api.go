// Package memberapi is the etcd API's backend over a real member (host/member): it turns
// the gRPC layer's requests (host/etcdapi's Backend and its optional interfaces) into calls
// of the member's rsm front (host/front) and the member's outcomes into etcd's errors. A
// request that ran out of time is etcd's "request timed out" (its outcome is unknown), one
// that found no leader is "no leader" (it was not proposed).
package memberapi

import (
	"context"
	"errors"
	"time"

	"github.com/orrery/orrery/host/etcdapi"
	"github.com/orrery/orrery/host/front"
	"github.com/orrery/orrery/host/member"
	"github.com/orrery/orrery/host/metrics"
	"github.com/orrery/orrery/node/kv"
	"github.com/orrery/orrery/node/kvserver"
	"github.com/orrery/orrery/node/rsm"
)

// API is a member's etcd backend (etcdapi.Backend and the optional ProgressRequester,
// Snapshotter, LeaderMover and MemberChanger).
type API struct {
	m   *member.Member
	f   *front.Caller
	cfg member.Config
}

// New returns the backend of a running member.
func New(m *member.Member) *API { return &API{m: m, f: m.Caller(), cfg: m.Config()} }

var (
	_ etcdapi.Backend           = (*API)(nil)
	_ etcdapi.ProgressRequester = (*API)(nil)
	_ etcdapi.Snapshotter       = (*API)(nil)
	_ etcdapi.LeaderMover       = (*API)(nil)
	_ etcdapi.MemberChanger     = (*API)(nil)
)

// requestTimeout bounds a request that carries no deadline of its own, like etcd's
// 5 s plus two election timeouts.
func (a *API) requestTimeout() time.Duration {
	return 5*time.Second + 2*time.Duration(a.cfg.ElectionTicks)*a.cfg.Tick
}

func (a *API) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, a.requestTimeout())
}

func etcdError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, front.ErrNoLeader):
		return etcdapi.ErrNoLeader
	case errors.Is(err, front.ErrStopped):
		return etcdapi.ErrStopped
	case errors.Is(err, context.DeadlineExceeded):
		return etcdapi.ErrTimeout
	}
	return err
}

// Header implements etcdapi.Backend.
func (a *API) Header() etcdapi.Header {
	st := a.m.Status()
	return etcdapi.Header{ClusterID: a.m.ClusterID(), MemberID: st.ID, RaftTerm: st.Term, Leader: st.Leader}
}

// Write implements etcdapi.Backend: it replicates a command and returns its outcome. An
// error means the outcome is unknown (the command may still be applied) or that it was
// never proposed.
func (a *API) Write(ctx context.Context, cmd kv.Command) (kv.Reply, error) {
	if err := cmd.Validate(a.cfg.Store); err != nil {
		return kv.Reply{Err: err}, nil
	}
	ctx, cancel := a.bound(ctx)
	defer cancel()
	b, err := a.f.Call(ctx, rsm.Request{Payload: cmd.Encode()})
	metrics.ObserveRequest("write", err)
	if err != nil {
		return kv.Reply{}, etcdError(err)
	}
	return kv.DecodeReply(b)
}

// Query implements etcdapi.Backend: linearizable through the leader's ReadIndex, or
// serializable from this member's applied state.
func (a *API) Query(ctx context.Context, q kv.Query, serializable bool) (kv.Answer, error) {
	ctx, cancel := a.bound(ctx)
	defer cancel()
	b, err := a.f.Call(ctx, rsm.Request{Read: !serializable, Local: serializable, Payload: q.Encode()})
	metrics.ObserveRequest("read", err)
	if err != nil {
		return kv.Answer{}, etcdError(err)
	}
	return kv.DecodeAnswer(b)
}

// Watch implements etcdapi.Backend. The channel is closed when ctx ends, the member stops,
// or the watcher falls too far behind.
func (a *API) Watch(ctx context.Context, req kv.WatchRequest) (<-chan kv.WatchResponse, error) {
	s, b, err := a.f.Open(ctx, rsm.Request{Payload: kv.EncodeWatchRequest(req)})
	if err == nil {
		var ans kv.Answer
		if ans, err = kv.DecodeAnswer(b); err == nil {
			err = ans.Err
		}
		if err != nil {
			s.Close()
		}
	}
	if err != nil {
		return nil, etcdError(err)
	}
	return front.Relay(ctx, s, kv.DecodeWatchResponse), nil
}

// RequestProgress implements etcdapi.ProgressRequester: a progress notification arrives
// on ch once every event before it has.
func (a *API) RequestProgress(_ context.Context, ch <-chan kv.WatchResponse) error {
	s, ok := a.f.StreamOf(ch)
	if !ok {
		return kv.ErrWatcherNotExist
	}
	go func() { // the progress arrives on the stream; the call's answer says nothing more
		ctx, cancel := context.WithTimeout(context.Background(), a.requestTimeout())
		defer cancel()
		_ = s.Ask(ctx, rsm.Request{Payload: kvserver.ProgressRequest})
	}()
	return nil
}

// Status implements etcdapi.Backend.
func (a *API) Status(context.Context) (etcdapi.Status, error) {
	st := a.m.Status()
	return etcdapi.Status{
		Header: a.Header(), RaftIndex: st.Commit, RaftAppliedIndex: st.Applied,
		Revision: st.Revision, DBSize: a.m.DBSize(),
	}, nil
}
