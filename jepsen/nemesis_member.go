package jepsen

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand"
	"slices"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
)

// Rejoiner is a cluster whose nodes can leave the cluster and join it again as new
// members; the clusters Up returns implement it. The member nemesis changes the member
// table through the member API; these methods only manage the processes and data dirs.
type Rejoiner interface {
	Cluster
	// Leave kills the node's process and keeps it down: Start is a no-op for the node
	// until Rejoin, so a nemesis that restarts every node does not revive a removed member.
	Leave(node string) error
	// Rejoin kills the node's process if it runs and starts it again on a new, empty
	// data dir with --initial-cluster-state existing: it joins as whatever member the
	// table lists at its peer URL (added beforehand with member add).
	Rejoin(node string) error
	// Left reports whether the node is between Leave and Rejoin.
	Left(node string) bool
	// PeerURL is the node's advertised peer URL, by which the member table names it.
	PeerURL(node string) string
}

// memberCallTimeout bounds one member API call at one node; a node that does not answer
// in time (partitioned, paused, down) is skipped for the next.
const memberCallTimeout = 5 * time.Second

// memberNemesis shrinks and grows the cluster, as Jepsen's etcd test does: Start removes
// a random voter through the member API and stops its process, unless that would leave
// fewer voters than a majority of the nodes Up started (pickRemoval); Stop adds the node
// back as a new member (member add as a learner, its process started on an empty data
// dir with --initial-cluster-state existing, promoted once it has caught up), so every
// healed period ends with the full membership, under new member IDs.
type memberNemesis struct {
	mu  sync.Mutex
	out []string // nodes whose removal was attempted and that are not back yet
	// answered is the node that last answered a member API call, asked first by the
	// next one; Start and Stop clear it, so each begins with the leader.
	answered string
}

func (*memberNemesis) Name() string { return "member" }

func (*memberNemesis) Supports(c Cluster) error {
	if _, ok := c.(Rejoiner); !ok {
		return fmt.Errorf("member: %w: the cluster cannot restart a node as a new member (%T)", ErrUnsupported, c)
	}
	return nil
}

// pickRemoval chooses the voter to remove, or reports false when removing one would
// leave fewer voters than a majority of the cluster's size nodes: the remaining members
// must still be able to elect a leader and commit the re-add on their own.
func pickRemoval(voters []string, size int, r *rand.Rand) (string, bool) {
	if len(voters)-1 < size/2+1 {
		return "", false
	}
	return voters[r.Intn(len(voters))], true
}

func (n *memberNemesis) Start(ctx context.Context, c Cluster, r *rand.Rand) (string, error) {
	if err := n.Supports(c); err != nil {
		return "", err
	}
	rj := c.(Rejoiner)
	n.setAnswered("")
	// A member still out (its re-add failed) comes back first: removals never pile up.
	if err := n.Stop(ctx, c); err != nil {
		return "", fmt.Errorf("member: bringing back the members still out first: %w", err)
	}
	ms, err := n.list(ctx, rj)
	if err != nil {
		return "", err
	}
	voters := votersOf(rj, ms)
	names := slices.Sorted(maps.Keys(voters))
	node, ok := pickRemoval(names, len(rj.Nodes()), r)
	if !ok {
		return fmt.Sprintf("member: keep all %d voters %v (a removal would leave fewer than a majority of %d)", len(names), names, len(rj.Nodes())), nil
	}
	id := voters[node]
	desc := fmt.Sprintf("member remove %s (member %x; %d voters left)", node, id, len(names)-1)
	n.mu.Lock()
	n.out = append(n.out, node) // whatever the removal's outcome, Stop restores the node
	n.mu.Unlock()
	timedOut := false
	err = n.onAny(ctx, rj, func(ctx context.Context, api *clientv3.Client) error {
		_, err := api.MemberRemove(ctx, id)
		if errCode(err) == codes.NotFound && timedOut {
			return nil // the attempt that timed out did remove it
		}
		// A NotFound on the first attempt means the table read was stale: the node may
		// be a voter under another ID, and must not be taken down (and restored on an
		// empty data dir) as if removed.
		timedOut = timedOut || err != nil && !definite(err)
		return err
	})
	if err != nil {
		return desc, fmt.Errorf("member: remove %s (member %x): %w", node, id, err)
	}
	return desc, rj.Leave(node)
}

func (n *memberNemesis) Stop(ctx context.Context, c Cluster) error {
	rj, ok := c.(Rejoiner)
	if !ok {
		return nil
	}
	n.mu.Lock()
	out := slices.Clone(n.out)
	n.answered = ""
	n.mu.Unlock()
	var errs []error
	for _, node := range out {
		if err := n.restore(ctx, rj, node); err != nil {
			errs = append(errs, fmt.Errorf("member: %s not back as a voter: %w", node, err))
			continue
		}
		n.mu.Lock()
		n.out = slices.DeleteFunc(n.out, func(x string) bool { return x == node })
		n.mu.Unlock()
	}
	return errors.Join(errs...)
}

// restore brings node back as a running voter from whatever state a removal left it in,
// one step per look at the member table, until it is one or ctx ends:
//
//	not in the table          Leave (its process, if still up, is the removed member), add it as a learner
//	learner, Left             Rejoin: the new member's process on a new data dir
//	learner                   (re)start its process; promote it (refused until it has caught up)
//	voter                     start its process if it is down: done
func (n *memberNemesis) restore(ctx context.Context, rj Rejoiner, node string) error {
	url := rj.PeerURL(node)
	for {
		ms, err := n.list(ctx, rj)
		if err == nil {
			m := memberAt(ms, url)
			switch {
			case m == nil:
				if err = rj.Leave(node); err == nil {
					err = n.onAny(ctx, rj, func(ctx context.Context, api *clientv3.Client) error {
						_, err := api.MemberAddAsLearner(ctx, []string{url})
						return err
					})
				}
			case rj.Left(node):
				err = rj.Rejoin(node)
			case m.IsLearner:
				if err = rj.Start(node); err == nil {
					err = n.onAny(ctx, rj, func(ctx context.Context, api *clientv3.Client) error {
						_, err := api.MemberPromote(ctx, m.ID)
						return err
					})
				}
			default:
				return rj.Start(node)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// list reads the member table, from the leader if there is one (the others may lag).
func (n *memberNemesis) list(ctx context.Context, rj Rejoiner) ([]*etcdserverpb.Member, error) {
	var ms []*etcdserverpb.Member
	err := n.onAny(ctx, rj, func(ctx context.Context, api *clientv3.Client) error {
		resp, err := api.MemberList(ctx)
		if err == nil {
			ms = resp.Members
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("member list: %w", err)
	}
	return ms, nil
}

// onAny calls call on the member API of each node that has not left, the leader first,
// until one answers: with success or a definite refusal (definite), which it returns.
// A node that times out or is unreachable may still carry the request out, so a call
// must be one that is safe to repeat (remove and promote are, or report NotFound or
// FailedPrecondition; an add again reports the peer URL exists).
func (n *memberNemesis) onAny(ctx context.Context, rj Rejoiner, call func(context.Context, *clientv3.Client) error) error {
	var errs []error
	for _, node := range n.askOrder(ctx, rj) {
		api, err := dial([]string{rj.Endpoint(node)})
		if err == nil {
			cctx, cancel := context.WithTimeout(ctx, memberCallTimeout)
			err = call(cctx, api)
			cancel()
			api.Close()
			if err == nil || definite(err) {
				n.setAnswered(node)
				return err
			}
		}
		errs = append(errs, fmt.Errorf("%s: %w", node, err))
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 0 {
		return errors.New("no member left to ask")
	}
	return fmt.Errorf("no member answered: %w", errors.Join(errs...))
}

// askOrder is the nodes that have not left: the one that answered last first, else the
// leader (if the nodes agree on one quickly), then the others. The leader's member table
// is the freshest; a follower's may lag.
func (n *memberNemesis) askOrder(ctx context.Context, rj Rejoiner) []string {
	var nodes []string
	for _, node := range rj.Nodes() {
		if !rj.Left(node) {
			nodes = append(nodes, node)
		}
	}
	n.mu.Lock()
	first := n.answered
	n.mu.Unlock()
	if !slices.Contains(nodes, first) {
		lctx, cancel := context.WithTimeout(ctx, time.Second)
		first, _ = rj.Leader(lctx)
		cancel()
	}
	if i := slices.Index(nodes, first); i > 0 {
		nodes = append(append([]string{first}, nodes[:i]...), nodes[i+1:]...)
	}
	return nodes
}

func (n *memberNemesis) setAnswered(node string) {
	n.mu.Lock()
	n.answered = node
	n.mu.Unlock()
}

// votersOf maps the nodes that are voting members in ms to their member IDs.
func votersOf(rj Rejoiner, ms []*etcdserverpb.Member) map[string]uint64 {
	out := map[string]uint64{}
	for _, node := range rj.Nodes() {
		if m := memberAt(ms, rj.PeerURL(node)); m != nil && !m.IsLearner {
			out[node] = m.ID
		}
	}
	return out
}

// memberAt is the member whose peer URLs include url, or nil.
func memberAt(ms []*etcdserverpb.Member, url string) *etcdserverpb.Member {
	for _, m := range ms {
		if slices.Contains(m.PeerURLs, url) {
			return m
		}
	}
	return nil
}
