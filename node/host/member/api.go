package member

import (
	"bytes"
	"context"
	"errors"
	"hash/fnv"
	"io"
	"slices"
	"strconv"
	"time"

	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/host/etcdapi"
	"github.com/orrery/orrery/node/kv"
)

// API adapts a Member to the etcd gRPC layer (etcdapi.Backend and the optional
// Snapshotter and LeaderMover). It turns the member's outcomes into etcd's errors: a
// request that ran out of time is etcd's "request timed out" (its outcome is unknown),
// one that found no leader is "no leader" (it was not proposed).
type API struct {
	m *Member
}

// API returns the member's gRPC backend.
func (m *Member) API() *API { return &API{m: m} }

var (
	_ etcdapi.Backend           = (*API)(nil)
	_ etcdapi.ProgressRequester = (*API)(nil)
	_ etcdapi.Snapshotter       = (*API)(nil)
	_ etcdapi.LeaderMover       = (*API)(nil)
)

// RequestProgress implements etcdapi.ProgressRequester.
func (a *API) RequestProgress(_ context.Context, ch <-chan kv.WatchResponse) error {
	return etcdError(a.m.RequestProgress(ch))
}

// requestTimeout bounds a request that carries no deadline of its own, like etcd's
// 5 s plus two election timeouts.
func (m *Member) requestTimeout() time.Duration {
	return 5*time.Second + 2*time.Duration(m.cfg.ElectionTicks)*m.cfg.Tick
}

func (a *API) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, a.m.requestTimeout())
}

func etcdError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNoLeader):
		return etcdapi.ErrNoLeader
	case errors.Is(err, ErrStopped):
		return etcdapi.ErrStopped
	case errors.Is(err, context.DeadlineExceeded):
		return etcdapi.ErrTimeout
	}
	return err
}

// Header implements etcdapi.Backend.
func (a *API) Header() etcdapi.Header {
	st := a.m.Status()
	return etcdapi.Header{ClusterID: a.m.ClusterID(), MemberID: a.m.cfg.ID, RaftTerm: st.Term, Leader: st.Leader}
}

// Write implements etcdapi.Backend.
func (a *API) Write(ctx context.Context, cmd kv.Command) (kv.Reply, error) {
	ctx, cancel := a.bound(ctx)
	defer cancel()
	r, err := a.m.Write(ctx, cmd)
	return r, etcdError(err)
}

// Query implements etcdapi.Backend.
func (a *API) Query(ctx context.Context, q kv.Query, serializable bool) (kv.Answer, error) {
	ctx, cancel := a.bound(ctx)
	defer cancel()
	ans, err := a.m.Query(ctx, q, serializable)
	return ans, etcdError(err)
}

// Watch implements etcdapi.Backend.
func (a *API) Watch(ctx context.Context, req kv.WatchRequest) (<-chan kv.WatchResponse, error) {
	ch, err := a.m.Watch(ctx, req)
	return ch, etcdError(err)
}

// Status implements etcdapi.Backend.
func (a *API) Status(context.Context) (etcdapi.Status, error) {
	st := a.m.Status()
	return etcdapi.Status{
		Header: a.Header(), RaftIndex: st.Commit, RaftAppliedIndex: st.Applied,
		Revision: st.Revision, DBSize: a.m.disk.Size(),
	}, nil
}

// Members implements etcdapi.Backend: the initial cluster (membership changes are not
// built yet).
func (a *API) Members(context.Context) ([]etcdapi.Member, error) {
	var out []etcdapi.Member
	for _, p := range a.m.cfg.Peers {
		out = append(out, etcdapi.Member{ID: p.ID, Name: p.Name, PeerURLs: []string{p.PeerURL()}, ClientURLs: a.m.ClientURLs(p.ID)})
	}
	return out, nil
}

// Snapshot implements etcdapi.Snapshotter: the member's applied key-value state, taken on
// the member's loop so that it is consistent.
func (a *API) Snapshot(ctx context.Context) (io.ReadCloser, error) {
	data := make(chan []byte, 1)
	if !a.m.post(func() { data <- a.m.app.Snapshot() }) {
		return nil, etcdapi.ErrStopped
	}
	select {
	case b := <-data:
		return io.NopCloser(bytes.NewReader(b)), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// MoveLeader implements etcdapi.LeaderMover.
func (a *API) MoveLeader(ctx context.Context, target uint64) error {
	if !slices.ContainsFunc(a.m.cfg.Peers, func(p Peer) bool { return p.ID == target }) {
		return etcdapi.ErrBadLeaderTransferee
	}
	errc := make(chan error, 1)
	if !a.m.post(func() {
		if !a.m.Status().IsLeader {
			errc <- kv.ErrNotLeader
			return
		}
		// The transfer goes out with the next Ready, at the next tick.
		errc <- a.m.srv.TransferLeader(c.NodeID(target))
	}) {
		return etcdapi.ErrStopped
	}
	if err := <-errc; err != nil {
		return err
	}
	ctx, cancel := a.bound(ctx)
	defer cancel()
	for a.m.Status().Leader != target {
		select {
		case <-ctx.Done():
			return etcdapi.ErrTimeoutDueToLeaderFail
		case <-time.After(a.m.cfg.Tick):
		}
	}
	return nil
}

// ClusterID identifies the cluster by its initial membership, as etcd derives it.
func (m *Member) ClusterID() uint64 {
	h := fnv.New64a()
	for _, p := range m.cfg.Peers {
		h.Write([]byte(strconv.FormatUint(p.ID, 10) + "=" + p.Name + "=" + p.PeerURL() + ";"))
	}
	return h.Sum64()
}

// PeerURL is the member's advertised peer URL.
func (p Peer) PeerURL() string {
	if p.URL != "" {
		return p.URL
	}
	return "http://" + p.Addr
}
