package workload

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/raft"
	"github.com/orrery/orrery/node/rsm"
	"github.com/orrery/orrery/sim"
)

// spares is how many processes of a members run start outside the cluster, as
// joiners (no raft configuration, waiting for a leader): the members the admin may add.
const spares = 3

// membersWorkload changes the membership while the kv workload writes and watches.
func membersWorkload() Workload {
	return Workload{
		Name: "members",
		Description: "the kv mix with watchers (half through a server's front) while an admin client adds learners, promotes them, " +
			"removes voters (the leader half the time) and reads the member table, on a cluster with three spare processes; " +
			"checked by the kv model, the watch checks and the membership checks (tables step by one change, agree per index, " +
			"match the admin's results; a removed member applies nothing after its removal)",
		Bugs:   kvBugs(),
		Build:  buildMembers,
		Spares: spares,
	}
}

func buildMembers(cfg Config) (sim.System, error) {
	n := orDefault(cfg.Nodes, 3)
	if n < 1 {
		return sim.System{}, errors.New("workload members: needs at least one node")
	}
	initial := simMembers(n)
	peers := serverIDs(n)
	all := cfg
	all.Nodes = n + spares
	sys, err := storeSystem("members", all, 0, kvCodec{},
		func(rc *rsm.Config, r *rand.Rand) {
			followerReads(rc, r)
			// Snapshots carry the member table: swarm how often a process takes them
			// and how much log it keeps, so that restarts and lagging members restore
			// tables from snapshots after a few changes, not only after 40 entries.
			rc.SnapshotEvery = []uint64{4, 8, 40}[r.IntN(3)]
			rc.Keep = min(rc.Keep, rc.SnapshotEvery/2)
			if int(rc.ID) > n {
				rc.Peers = nil // a spare: it joins when the admin adds it
				return
			}
			rc.Peers, rc.Members = peers, initial
		})
	if err != nil {
		return sys, err
	}
	sys.Clients = orDefault(cfg.Clients, 5) // the last one is the admin
	keys := orDefault(cfg.Keys, 3)
	servers := serverIDs(sys.Servers)
	admin := component.NodeID(sys.Servers + sys.Clients)
	sys.Client = func(id component.NodeID, r *rand.Rand) component.Component {
		if id == admin {
			return newAdminClient(id, servers, n, initial, r)
		}
		w := newWatchingClient(id, servers, r, true)
		if (int(id)-sys.Servers-1)%2 == 1 {
			w.Client.Front()
		}
		return w
	}
	sys.Workload = func() sim.Generator {
		return &membersOps{admin: sys.Clients - 1, kv: &kvOps{regOps: regOps{keys: keys, written: map[string][]string{}}}}
	}
	sys.Model = "kv"
	sys.Checked = func(f string) bool { return f != opMember && f != opMembers }
	sys.Invariants = func(res sim.Result) error {
		return errors.Join(checkWatches(res), checkMembers(res, tableOf(initial)))
	}
	return sys, nil
}

// simMembers are the initial members' attributes: the simulator's nodes have no URLs, so
// theirs name the node.
func simMembers(n int) []rsm.Member {
	var ms []rsm.Member
	for i := 1; i <= n; i++ {
		ms = append(ms, rsm.Member{ID: uint64(i), Name: fmt.Sprintf("n%d", i), PeerURLs: []string{simURL(uint64(i))}})
	}
	return ms
}

func simURL(id uint64) string { return fmt.Sprintf("sim://n%d", id) }

// The admin's operations: a membership change whose kind and target the admin picks from
// what it knows of the table when invoked, and a linearizable read of the table.
const (
	opMember  = "member"
	opMembers = "members"
)

type membersOps struct {
	admin int
	kv    *kvOps
}

func (g *membersOps) Next(r *rand.Rand, c int) sim.Op {
	if c == g.admin {
		return sim.Op{F: opMember, Key: "members", Value: component.Null()}
	}
	return g.kv.Next(r, c)
}

func (g *membersOps) Final(r *rand.Rand, c int) sim.Op {
	if c == g.admin {
		return sim.Op{F: opMembers, Key: "members", Value: component.Null()}
	}
	return g.kv.Final(r, c)
}

const (
	timerAdminResend = 1
	timerAdminGiveUp = 2
)

// adminGiveUp is when the admin stops waiting for a change and records it as
// indefinite, naming its target (before the world's default timeout would, without one).
const adminGiveUp = 800 * time.Millisecond

// adminClient changes the membership one step at a time, as an operator with etcdctl
// would: add a spare as learner, promote it, remove a voter (the leader it talks to half
// the time) to get back to its voter count; now and then it reads the table, and after an
// unknown outcome it reads the table before it changes anything again.
type adminClient struct {
	id      component.NodeID
	servers []component.NodeID
	voters  int
	r       *rand.Rand
	seq     uint64
	leader  int
	probe   int
	table   table
	known   bool // the table is what the last answer said (no unknown outcome since)
	added   map[uint64]bool
	cur     *adminCall
}

type adminCall struct {
	op     component.Op
	kind   string // add, promote, remove or members
	target uint64
	req    rsm.Request
	maybe  bool // a send went unanswered: it may have been proposed
}

func newAdminClient(id component.NodeID, servers []component.NodeID, voters int, initial []rsm.Member, r *rand.Rand) *adminClient {
	return &adminClient{id: id, servers: servers, voters: voters, r: r, table: tableOf(initial), known: true, added: map[uint64]bool{}}
}

func (a *adminClient) Handle(_ time.Duration, in component.Input) []component.Effect {
	switch in := in.(type) {
	case component.Invoke:
		return a.invoke(in.Op)
	case component.Cancel:
		if a.cur != nil && a.cur.op.ID == in.OpID {
			a.cur, a.known = nil, false
			return []component.Effect{component.CancelTimer{ID: timerAdminResend}, component.CancelTimer{ID: timerAdminGiveUp}}
		}
	case component.TimerFired:
		if a.cur == nil {
			return nil
		}
		if in.ID == timerAdminGiveUp {
			return a.finish(component.Info, "info")
		}
		a.cur.maybe = true
		a.probe = (a.probe + 1) % len(a.servers) // as rsm.Client: hints aside
		a.leader = a.probe
		return a.send(150 * time.Millisecond)
	case component.Receive:
		return a.receive(in.Msg)
	}
	return nil
}

func (a *adminClient) invoke(op component.Op) []component.Effect {
	call := &adminCall{op: op, kind: opMembers}
	if op.F == opMember {
		call.kind, call.target = a.choose()
	}
	switch call.kind {
	case "add":
		a.added[call.target] = true
		call.req = rsm.ConfChangeRequest(raft.ConfChange{Type: raft.ConfChangeAddLearner, NodeID: call.target}, rsm.Member{PeerURLs: []string{simURL(call.target)}})
	case "promote":
		call.req = rsm.ConfChangeRequest(raft.ConfChange{Type: raft.ConfChangeAddVoter, NodeID: call.target}, rsm.Member{})
	case "remove":
		call.req = rsm.ConfChangeRequest(raft.ConfChange{Type: raft.ConfChangeRemove, NodeID: call.target}, rsm.Member{})
	default:
		call.req = rsm.MembersRequest()
	}
	a.seq++
	call.req.Client, call.req.Seq, call.req.Ack = uint64(a.id), a.seq, a.seq-1
	a.cur = call
	effs := a.send(150 * time.Millisecond)
	if op.F == opMember {
		effs = append(effs, component.SetTimer{ID: timerAdminGiveUp, After: adminGiveUp})
	}
	return effs
}

// choose picks the next step from the table the admin knows.
func (a *adminClient) choose() (string, uint64) {
	if !a.known || a.r.IntN(4) == 0 {
		return opMembers, 0
	}
	var learners, voters []uint64
	for _, id := range a.table.ids() {
		if a.table[id] {
			learners = append(learners, id)
		} else {
			voters = append(voters, id)
		}
	}
	switch {
	case len(learners) > 0:
		l := learners[a.r.IntN(len(learners))]
		if a.r.IntN(8) == 0 {
			return "remove", l
		}
		return "promote", l
	case len(voters) > a.voters:
		if lead := uint64(a.servers[a.leader]); a.r.IntN(2) == 0 && slices.Contains(voters, lead) {
			return "remove", lead
		}
		return "remove", voters[a.r.IntN(len(voters))]
	}
	for id := uint64(a.voters) + 1; id <= uint64(len(a.servers)); id++ {
		if !a.added[id] {
			return "add", id
		}
	}
	return opMembers, 0
}

func (a *adminClient) send(wait time.Duration) []component.Effect {
	return []component.Effect{
		component.Send{To: a.servers[a.leader], Msg: a.cur.req},
		component.SetTimer{ID: timerAdminResend, After: wait},
	}
}

func (a *adminClient) receive(msg component.Message) []component.Effect {
	if a.cur == nil {
		return nil
	}
	switch m := msg.(type) {
	case rsm.Redirect:
		if m.Seq != a.cur.req.Seq {
			return nil
		}
		if i := slices.Index(a.servers, component.NodeID(m.Leader)); i >= 0 && m.Leader != 0 {
			a.leader = i
			return a.send(150 * time.Millisecond)
		}
		return []component.Effect{component.SetTimer{ID: timerAdminResend, After: 40 * time.Millisecond}}
	case rsm.Reply:
		if m.Seq != a.cur.req.Seq {
			return nil
		}
		ms, err := rsm.DecodeConfChangeResult(m.Result)
		switch {
		case err == nil:
			a.table, a.known = tableOf(ms), true
			return a.finish(component.OK, "ok "+a.table.String())
		case a.cur.maybe:
			// An earlier send may have been proposed: this refusal may be its doing
			// (the member exists because the first add went through).
			return a.finish(component.Info, "info "+refusal(err))
		}
		return a.finish(component.Fail, "fail "+refusal(err))
	}
	return nil
}

func (a *adminClient) finish(o component.Outcome, detail string) []component.Effect {
	call := a.cur
	a.cur = nil
	if o == component.Info {
		a.known = false
	}
	v := component.Str(fmt.Sprintf("%s %d %s", call.kind, call.target, detail))
	return []component.Effect{
		component.CancelTimer{ID: timerAdminResend}, component.CancelTimer{ID: timerAdminGiveUp},
		component.Complete{OpID: call.op.ID, Outcome: o, Value: v},
	}
}

// refusals name the membership errors in completions, one word each.
var refusals = []struct {
	err  error
	name string
}{
	{rsm.ErrConfChangePending, "pending"}, {rsm.ErrMemberExists, "exists"}, {rsm.ErrPeerURLExists, "url-exists"},
	{rsm.ErrMemberNotFound, "not-found"}, {rsm.ErrMemberNotLearner, "not-learner"}, {rsm.ErrLearnerNotReady, "not-ready"},
}

func refusal(err error) string {
	for _, r := range refusals {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "error:" + strings.ReplaceAll(err.Error(), " ", "_")
}

// table is a member table as the checks see it: member ID -> learner.
type table map[uint64]bool

func tableOf(ms []rsm.Member) table {
	t := table{}
	for _, m := range ms {
		t[m.ID] = m.Learner
	}
	return t
}

func (t table) ids() []uint64 {
	var ids []uint64
	//det:unordered sorted below
	for id := range t {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// String renders the table canonically: IDs in order, learners marked L ("1,2,4L").
func (t table) String() string {
	parts := []string{}
	for _, id := range t.ids() {
		p := strconv.FormatUint(id, 10)
		if t[id] {
			p += "L"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ",")
}

func parseTable(s string) (table, error) {
	t := table{}
	if s == "" {
		return t, nil
	}
	for p := range strings.SplitSeq(s, ",") {
		learner := strings.HasSuffix(p, "L")
		id, err := strconv.ParseUint(strings.TrimSuffix(p, "L"), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("malformed member table %q", s)
		}
		t[id] = learner
	}
	return t, nil
}

// step applies one change to t; false if the change is not possible from t (the server
// would have refused it).
func (t table) step(kind string, id uint64) (table, bool) {
	learner, in := t[id]
	next := table{}
	//det:unordered copying a map
	for k, v := range t {
		next[k] = v
	}
	switch {
	case kind == "add" && !in:
		next[id] = true
	case kind == "promote" && (!in || learner):
		next[id] = false // promoting an ID not in the table adds it as a voter, as etcd's AddVoter does
	case kind == "remove" && in:
		delete(next, id)
	default:
		return nil, false
	}
	return next, true
}

// refusalFits reports whether a server holding table t could refuse the change so.
func (t table) refusalFits(kind string, id uint64, why string) bool {
	learner, in := t[id]
	switch why {
	case "pending":
		return true // a change of another leader's term may still be unapplied
	case "exists", "url-exists":
		return kind == "add" && in
	case "not-found":
		return kind == "remove" && !in
	case "not-learner":
		return kind == "promote" && in && !learner
	case "not-ready":
		return kind == "promote" && in && learner
	}
	return false
}

// oneStep reports whether table b follows from a by a single change.
func oneStep(a, b table) bool {
	for _, id := range append(a.ids(), b.ids()...) {
		for _, kind := range []string{"add", "promote", "remove"} {
			if t, ok := a.step(kind, id); ok && t.String() == b.String() {
				return true
			}
		}
	}
	return false
}
