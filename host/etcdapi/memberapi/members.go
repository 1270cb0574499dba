package memberapi

import (
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/orrery/orrery/host/etcdapi"
	"github.com/orrery/orrery/host/front"
	"github.com/orrery/orrery/node/kvserver"
	"github.com/orrery/orrery/node/raft"
	"github.com/orrery/orrery/node/rsm"
)

// Members implements etcdapi.Backend: the replicated member table, with the client URLs
// (and, for members added by URL only, the names) the members announced.
// The table is read from the leader, linearizably (etcd's MemberList is linearizable by
// default); without a leader, this member's own table is answered after a short wait.
func (a *API) Members(ctx context.Context) ([]etcdapi.Member, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if b, err := a.f.Call(ctx, rsm.MembersRequest()); err == nil {
		if ms, err := rsm.DecodeConfChangeResult(b); err == nil && len(ms) > 0 {
			return a.list(ms), nil
		}
	}
	return a.list(a.m.Table()), nil
}

func (a *API) list(ms []rsm.Member) []etcdapi.Member {
	out := make([]etcdapi.Member, 0, len(ms))
	for _, x := range ms {
		out = append(out, etcdapi.Member{ID: x.ID, Name: x.Name, PeerURLs: x.PeerURLs, IsLearner: x.Learner})
	}
	a.m.Do(func(srv *rsm.Server, _ *kvserver.App) {
		for i := range out {
			if an, ok := srv.Announced(out[i].ID); ok {
				out[i].ClientURLs = an.ClientURLs
				out[i].Name = cmp.Or(out[i].Name, an.Name)
			}
		}
	})
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
	cc := raft.ConfChange{Type: raft.ConfChangeAddVoter, NodeID: newMemberID(a.m.Table())}
	if learner {
		cc.Type = raft.ConfChangeAddLearner
	}
	ms, err := a.confChange(ctx, cc, rsm.Member{PeerURLs: peerURLs})
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
	ms, err := a.confChange(ctx, cc, rsm.Member{})
	if err != nil {
		return nil, membershipError(err)
	}
	return a.list(ms), nil
}

// confChange asks the leader for a membership change and returns the table after it.
// A change refused because another one is in progress (a definite refusal) is retried
// every tick until ctx ends, as a client would.
func (a *API) confChange(ctx context.Context, cc raft.ConfChange, x rsm.Member) ([]rsm.Member, error) {
	for {
		b, err := a.f.Call(ctx, rsm.ConfChangeRequest(cc, x))
		if err != nil {
			return nil, err
		}
		ms, err := rsm.DecodeConfChangeResult(b)
		if !errors.Is(err, rsm.ErrConfChangePending) {
			return ms, err
		}
		select {
		case <-time.After(a.cfg.Tick):
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-a.m.Done():
			return nil, front.ErrStopped
		}
	}
}

// newMemberID draws an ID for a member being added: random and not in use. (It stays
// below 2^24, as IDs did when client IDs carried their member's.) The leader refuses an ID
// that is taken after all (rsm.ErrMemberExists).
func newMemberID(taken []rsm.Member) uint64 {
	for {
		id := 1<<16 + rand.Uint64N(1<<24-1<<16)
		if !slices.ContainsFunc(taken, func(x rsm.Member) bool { return x.ID == id }) {
			return id
		}
	}
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
