package raft

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/orrery/orrery/node/bugs"
)

// simOpts is one randomized world: drawn from the seed (swarm testing), bugs added by the
// caller.
type simOpts struct {
	nodes                 int
	preVote, checkQuorum  bool
	pDrop, pDup, pCrash   float64
	pTorn                 float64 // crash while handling a Ready, before the sync
	pPartition, pCompact  float64
	steps                 int
	bugs                  bugs.Set
	maxInflight, maxBytes int
	maxMsgSize            uint64
	// voters is the size of the initial configuration; nodes above it start empty and
	// can join through membership changes (proposed at random when confChanges is set).
	voters      int
	confChanges bool
	// weights of the ordinary steps: deliver, ready, tick, propose, read, drop
	weights [6]int
}

func drawOpts(rng *rand.Rand, steps int) simOpts {
	o := calmOpts(rng, steps)
	o.voters = o.nodes
	if rng.IntN(2) == 0 {
		o.confChanges = true
		o.voters = max(1, o.nodes-rng.IntN(3))
	}
	if rng.IntN(3) == 0 {
		// Chaos: frequent crashes, partitions and elections.
		o.pCrash = 0.005 + rng.Float64()*0.03
		o.pTorn = 0.02 + rng.Float64()*0.08
		o.pPartition = rng.Float64() * 0.02
		o.weights[2] = 15 + rng.IntN(25)
	}
	return o
}

func calmOpts(rng *rand.Rand, steps int) simOpts {
	return simOpts{
		nodes:       3 + rng.IntN(3),
		preVote:     rng.IntN(2) == 0,
		checkQuorum: rng.IntN(2) == 0,
		pDrop:       rng.Float64() * 0.2,
		pDup:        rng.Float64() * 0.1,
		pCrash:      rng.Float64() * 0.004,
		pTorn:       rng.Float64() * 0.01,
		pPartition:  rng.Float64() * 0.004,
		pCompact:    rng.Float64() * 0.02,
		steps:       steps,
		maxInflight: 1 + rng.IntN(8),
		maxBytes:    rng.IntN(2) * 200,
		maxMsgSize:  []uint64{1, 64, 1 << 20}[rng.IntN(3)],
		weights:     [6]int{30 + rng.IntN(20), 25 + rng.IntN(20), 3 + rng.IntN(20), 5 + rng.IntN(10), 1 + rng.IntN(5), rng.IntN(3)},
	}
}

type simNode struct {
	id      uint64
	n       *Node // nil while down
	st      *MemoryStorage
	applied uint64
	checked uint64 // committed entries already compared with the global record
}

// sim is an in-test network of nodes with loss, duplication, reordering, partitions,
// crashes (losing everything not synced) and restarts, plus the safety checks.
type sim struct {
	rng       *rand.Rand
	opts      simOpts
	nodes     []*simNode
	net       []Message
	isolated  map[uint64]bool
	leaders   map[uint64]uint64 // term -> leader
	committed map[uint64]Entry  // index -> the entry committed there
	obsTerm   map[uint64]uint64 // index -> lowest term of a node that saw it committed
	maxCommit uint64
	reads     map[string]uint64 // read ctx -> maxCommit when requested
	seen      map[[2]uint64]bool
	counter   int
	trace     func(format string, args ...any) // optional, for debugging a seed
}

func (s *sim) tracef(format string, args ...any) {
	if s.trace != nil {
		s.trace(format, args...)
	}
}

func newSim(seed uint64, opts simOpts) *sim {
	s := &sim{
		rng: rand.New(rand.NewPCG(seed, 0xabcdef)), opts: opts, isolated: map[uint64]bool{},
		leaders: map[uint64]uint64{}, committed: map[uint64]Entry{}, obsTerm: map[uint64]uint64{},
		reads: map[string]uint64{}, seen: map[[2]uint64]bool{},
	}
	for i := range opts.nodes {
		s.nodes = append(s.nodes, &simNode{id: uint64(i + 1), st: NewMemoryStorage()})
	}
	for _, sn := range s.nodes {
		s.start(sn)
	}
	return s
}

func (s *sim) voters() []uint64 {
	ids := make([]uint64, s.opts.voters)
	for i := range ids {
		ids[i] = uint64(i + 1)
	}
	return ids
}

func (s *sim) start(sn *simNode) {
	cfg := Config{
		ID: sn.id, Storage: sn.st, Rand: rand.New(rand.NewPCG(s.rng.Uint64(), sn.id)),
		ElectionTick: 10, HeartbeatTick: 2, PreVote: s.opts.preVote, CheckQuorum: s.opts.checkQuorum,
		MaxSizePerMsg: s.opts.maxMsgSize, MaxInflightMsgs: s.opts.maxInflight, MaxInflightBytes: uint64(s.opts.maxBytes),
		Bugs: s.opts.bugs,
	}
	if first, _ := sn.st.FirstIndex(); first == 1 && sn.id <= uint64(s.opts.voters) {
		cfg.Peers = s.voters()
	}
	n, err := NewNode(cfg)
	if err != nil {
		panic(err)
	}
	first, _ := sn.st.FirstIndex()
	sn.n, sn.checked, sn.applied = n, 0, first-1 // the application restores the snapshot
}

// run executes the random steps then heals and checks convergence.
func (s *sim) run() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	for step := range s.opts.steps {
		s.randomStep()
		if err := s.check(step%50 == 0); err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
	}
	return s.converge()
}

func (s *sim) up() []*simNode {
	var out []*simNode
	for _, sn := range s.nodes {
		if sn.n != nil {
			out = append(out, sn)
		}
	}
	return out
}

func (s *sim) pick(nodes []*simNode) *simNode {
	if len(nodes) == 0 {
		return nil
	}
	return nodes[s.rng.IntN(len(nodes))]
}

func (s *sim) randomStep() {
	r := s.rng.Float64()
	switch {
	case r < s.opts.pCrash:
		s.crashOrRestart()
	case r < s.opts.pCrash+s.opts.pPartition:
		s.repartition()
	case r < s.opts.pCrash+s.opts.pPartition+s.opts.pCompact:
		s.compactOne()
	default:
		s.ordinaryStep()
	}
}

func (s *sim) ordinaryStep() {
	sn := s.pick(s.up())
	k := s.rng.IntN(sum(s.opts.weights[:]))
	op := 0
	for k >= s.opts.weights[op] {
		k -= s.opts.weights[op]
		op++
	}
	if op == 0 {
		s.deliverOne()
		return
	}
	if op == 5 {
		if len(s.net) > 0 {
			i := s.rng.IntN(len(s.net))
			s.net = slices.Delete(s.net, i, i+1)
		}
		return
	}
	if sn != nil {
		s.nodeStep(sn, op)
	}
}

func (s *sim) nodeStep(sn *simNode, op int) {
	switch op {
	case 1:
		s.processReady(sn, true)
	case 2:
		sn.n.Tick()
	case 3:
		s.counter++
		_ = sn.n.Propose(fmt.Appendf(nil, "p%d", s.counter))
	case 4:
		s.counter++
		ctx := fmt.Sprintf("r%d", s.counter)
		s.reads[ctx] = s.maxCommit
		s.tracef("read %s at %d (maxCommit %d)", ctx, sn.id, s.maxCommit)
		_ = sn.n.ReadIndex([]byte(ctx))
		if s.opts.confChanges && s.rng.IntN(4) == 0 {
			s.proposeConfChange(sn)
		}
	}
}

// proposeConfChange proposes a random membership change; the leader rejects invalid ones.
func (s *sim) proposeConfChange(sn *simNode) {
	types := []ConfChangeType{ConfChangeAddVoter, ConfChangeAddLearner, ConfChangeRemove}
	cc := ConfChange{Type: types[s.rng.IntN(len(types))], NodeID: uint64(1 + s.rng.IntN(len(s.nodes)))}
	_ = sn.n.ProposeConfChange(cc)
}

func sum(xs []int) int {
	t := 0
	for _, x := range xs {
		t += x
	}
	return t
}

func (s *sim) crashOrRestart() {
	sn := s.nodes[s.rng.IntN(len(s.nodes))]
	for _, other := range s.nodes {
		if other.n == nil && s.rng.IntN(3) > 0 {
			sn = other // prefer restarting a node that is down
		}
	}
	if sn.n == nil {
		s.tracef("restart %d", sn.id)
		s.start(sn)
		return
	}
	s.tracef("crash %d", sn.id)
	sn.n = nil
}

func (s *sim) repartition() {
	clear(s.isolated)
	if s.rng.IntN(2) == 0 {
		return // heal
	}
	for range 1 + s.rng.IntN((len(s.nodes)-1)/2) {
		s.isolated[uint64(1+s.rng.IntN(len(s.nodes)))] = true
	}
	if l := s.leader(); l != nil && s.rng.IntN(2) == 0 {
		s.isolated[l.id] = true // the nemesis likes to cut off leaders
	}
}

func (s *sim) compactOne() {
	sn := s.pick(s.up())
	if sn == nil {
		return
	}
	first, _ := sn.st.FirstIndex()
	last, _ := sn.st.LastIndex()
	i := min(sn.applied, last)
	if i < first+2 {
		return
	}
	cs, err := sn.n.ConfStateAt(i)
	if err != nil {
		return // an incoming snapshot is about to replace the log
	}
	if _, err := sn.st.CreateSnapshot(i, cs, nil); err != nil {
		panic(err)
	}
	if err := sn.st.Compact(i); err != nil {
		panic(err)
	}
}

// deliverOne delivers a random in-flight message (reordering), maybe keeping a duplicate.
func (s *sim) deliverOne() {
	if len(s.net) == 0 {
		return
	}
	i := s.rng.IntN(len(s.net))
	m := s.net[i]
	if s.rng.Float64() >= s.opts.pDup {
		s.net = slices.Delete(s.net, i, i+1)
	}
	s.deliver(m)
}

func (s *sim) deliver(m Message) {
	to := s.nodes[m.To-1]
	if to.n == nil || s.isolated[m.From] != s.isolated[m.To] {
		return
	}
	s.tracef("deliver %s", m)
	_ = to.n.Step(m)
}

func (s *sim) send(msgs []Message, lossy bool) {
	for _, m := range msgs {
		if lossy && s.rng.Float64() < s.opts.pDrop {
			continue
		}
		s.net = append(s.net, m)
	}
}

// processReady drives one Ready; with faults it may crash the node after the immediate
// messages left but before the writes were synced (a seeded prefix of entries survives).
func (s *sim) processReady(sn *simNode, faults bool) {
	if !sn.n.HasReady() {
		return
	}
	rd := sn.n.Ready()
	s.tracef("ready %d: soft=%v hs=%v ents=%v committed=%v reads=%v", sn.id, rd.SoftState, rd.HardState, rd.Entries, rd.CommittedEntries, rd.ReadStates)
	s.send(rd.Messages, faults)
	if faults && s.rng.Float64() < s.opts.pTorn {
		s.tornWrite(sn, rd)
		sn.n = nil
		return
	}
	s.persist(sn, rd)
	s.send(rd.MessagesAfterSync, faults)
	s.apply(sn, rd)
	if err := sn.n.Advance(); err != nil {
		panic(err)
	}
}

// tornWrite persists a seeded prefix of the Ready's writes, in the driver's write order:
// snapshot, entries, hard state.
func (s *sim) tornWrite(sn *simNode, rd Ready) {
	if !rd.Snapshot.IsEmpty() && s.rng.IntN(2) == 0 {
		return
	}
	keep := s.rng.IntN(len(rd.Entries) + 2)
	if keep <= len(rd.Entries) {
		rd.Entries = rd.Entries[:keep]
		rd.HardState = HardState{}
	}
	s.persistRaw(sn, rd)
}

func (s *sim) persist(sn *simNode, rd Ready) { s.persistRaw(sn, rd) }

func (s *sim) persistRaw(sn *simNode, rd Ready) {
	if !rd.Snapshot.IsEmpty() {
		if err := sn.st.ApplySnapshot(rd.Snapshot); err != nil {
			panic(err)
		}
	}
	if err := sn.st.Append(rd.Entries); err != nil {
		panic(err)
	}
	if !rd.HardState.IsEmpty() {
		sn.st.SetHardState(rd.HardState)
	}
}

func (s *sim) apply(sn *simNode, rd Ready) {
	if !rd.Snapshot.IsEmpty() {
		sn.applied = rd.Snapshot.Metadata.Index
	}
	for _, e := range rd.CommittedEntries {
		if e.Index != sn.applied+1 {
			panic(fmt.Sprintf("node %d applies %d after %d", sn.id, e.Index, sn.applied))
		}
		sn.applied = e.Index
	}
	for _, rs := range rd.ReadStates {
		if want, ok := s.reads[string(rs.RequestCtx)]; ok && rs.Index < want {
			panic(fmt.Sprintf("stale read: node %d answered %q with index %d, but %d was committed before the request",
				sn.id, rs.RequestCtx, rs.Index, want))
		}
	}
}
