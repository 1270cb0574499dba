package member

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/orrery/orrery/host/etcdapi"
	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/kv"
	"github.com/orrery/orrery/node/raft"
	"github.com/orrery/orrery/node/rsm"
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
	_ etcdapi.MemberChanger     = (*API)(nil)
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

// Members implements etcdapi.Backend: the replicated member table as this member has
// applied it, with the client URLs (and, for members added by URL only, the names) the
// members announced.
// The table is read from the leader, linearizably (etcd's MemberList is linearizable by
// default); without a leader, this member's own table is answered after a short wait.
func (a *API) Members(ctx context.Context) ([]etcdapi.Member, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if b, err := a.m.do(ctx, rsm.MembersRequest()); err == nil {
		if ms, err := rsm.DecodeConfChangeResult(b); err == nil && len(ms) > 0 {
			return a.list(ms), nil
		}
	}
	return a.list(a.m.peers.tableOrPeers()), nil
}

func (a *API) list(ms []rsm.Member) []etcdapi.Member {
	out := make([]etcdapi.Member, 0, len(ms))
	for _, x := range ms {
		out = append(out, etcdapi.Member{ID: x.ID, Name: x.Name, PeerURLs: x.PeerURLs, IsLearner: x.Learner})
	}
	done := make(chan struct{})
	if !a.m.drv.Do(func() {
		defer close(done)
		for i := range out {
			if an, ok := a.m.srv.Announced(out[i].ID); ok {
				out[i].ClientURLs = an.ClientURLs
				out[i].Name = cmpOr(out[i].Name, an.Name)
			}
		}
	}) {
		return out
	}
	<-done
	return out
}

// MemberAdd implements etcdapi.MemberChanger: the new member gets a fresh random ID and is
// added as a voter or a learner; it then starts with --initial-cluster-state existing.
func (a *API) MemberAdd(ctx context.Context, peerURLs []string, learner bool) (etcdapi.Member, []etcdapi.Member, error) {
	if len(peerURLs) == 0 {
		return etcdapi.Member{}, nil, status.Error(codes.InvalidArgument, "etcdserver: member add needs a peer URL")
	}
	for _, u := range peerURLs {
		if pu, err := url.Parse(u); err != nil || pu.Host == "" {
			return etcdapi.Member{}, nil, status.Errorf(codes.InvalidArgument, "etcdserver: bad peer URL %q", u)
		}
	}
	ctx, cancel := a.bound(ctx)
	defer cancel()
	cc := raft.ConfChange{Type: raft.ConfChangeAddVoter, NodeID: newMemberID(a.m.peers.tableOrPeers())}
	if learner {
		cc.Type = raft.ConfChangeAddLearner
	}
	ms, err := a.m.confChange(ctx, cc, rsm.Member{PeerURLs: peerURLs})
	if err != nil {
		return etcdapi.Member{}, nil, membershipError(err)
	}
	return etcdapi.Member{ID: cc.NodeID, PeerURLs: peerURLs, IsLearner: learner}, a.list(ms), nil
}

// MemberRemove implements etcdapi.MemberChanger.
func (a *API) MemberRemove(ctx context.Context, id uint64) ([]etcdapi.Member, error) {
	return a.change(ctx, raft.ConfChange{Type: raft.ConfChangeRemove, NodeID: id})
}

// MemberPromote implements etcdapi.MemberChanger: a learner becomes a voter once its log
// is within 90% of the leader's (etcd's rule).
func (a *API) MemberPromote(ctx context.Context, id uint64) ([]etcdapi.Member, error) {
	return a.change(ctx, raft.ConfChange{Type: raft.ConfChangeAddVoter, NodeID: id})
}

// MemberUpdate implements etcdapi.MemberChanger: not supported (remove the member and add
// it again at its new URL).
func (a *API) MemberUpdate(context.Context, uint64, []string) ([]etcdapi.Member, error) {
	return nil, status.Error(codes.Unimplemented, "orrery: member update is not supported; remove the member and add it again with its new peer URL")
}

func (a *API) change(ctx context.Context, cc raft.ConfChange) ([]etcdapi.Member, error) {
	ctx, cancel := a.bound(ctx)
	defer cancel()
	ms, err := a.m.confChange(ctx, cc, rsm.Member{})
	if err != nil {
		return nil, membershipError(err)
	}
	return a.list(ms), nil
}

// membershipError maps rsm's definite membership errors to etcd's.
func membershipError(err error) error {
	for _, p := range [][2]error{
		{rsm.ErrMemberExists, etcdapi.ErrMemberExists},
		{rsm.ErrPeerURLExists, etcdapi.ErrPeerURLExists},
		{rsm.ErrMemberNotFound, etcdapi.ErrMemberNotFound},
		{rsm.ErrMemberNotLearner, etcdapi.ErrMemberNotLearner},
		{rsm.ErrLearnerNotReady, etcdapi.ErrLearnerNotReady},
	} {
		if errors.Is(err, p[0]) {
			return p[1]
		}
	}
	if errors.Is(err, rsm.ErrNotLeader) {
		return etcdapi.ErrNoLeader
	}
	if errors.Is(err, raft.ErrBadConfChange) || strings.HasPrefix(err.Error(), "rsm: membership change rejected") {
		return status.Error(codes.FailedPrecondition, err.Error())
	}
	return etcdError(err)
}

// Snapshot implements etcdapi.Snapshotter: the member's applied key-value state, taken on
// the member's loop so that it is consistent.
func (a *API) Snapshot(ctx context.Context) (io.ReadCloser, error) {
	data := make(chan []byte, 1)
	if !a.m.drv.Do(func() { data <- a.m.app.Snapshot() }) {
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
	if !slices.ContainsFunc(a.m.peers.tableOrPeers(), func(x rsm.Member) bool { return x.ID == target && !x.Learner }) {
		return etcdapi.ErrBadLeaderTransferee
	}
	errc := make(chan error, 1)
	if !a.m.drv.Do(func() {
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

// ClusterID identifies the cluster by its initial membership, as etcd derives it; a
// member that joined learned it from the cluster.
func (m *Member) ClusterID() uint64 { return m.clusterID }

// PeerURL is the member's advertised peer URL.
func (p Peer) PeerURL() string {
	if p.URL != "" {
		return p.URL
	}
	return "http://" + p.Addr
}
