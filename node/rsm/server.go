package rsm

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/orrery/orrery/node/bugs"
	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/raft"
)

// Config describes one server.
type Config struct {
	ID    c.NodeID
	Peers []c.NodeID // every voter of the initial cluster, self included; none to join
	// Members are the initial members' attributes (names, peer URLs), seeding the replicated
	// member table (see Members). Optional: without them the table stays empty until a
	// membership change is applied. Like Peers, pass them again on every restart.
	Members []Member
	// Tick is the local-clock period of raft ticks; ElectionTick and HeartbeatTick count
	// them. Defaults: 10ms, 10 and 1.
	Tick                        time.Duration
	ElectionTick, HeartbeatTick int
	// SnapshotEvery takes a snapshot after this many applied entries (0 = never); Keep
	// entries stay in the log behind a snapshot for slow followers.
	SnapshotEvery, Keep uint64
	// MaxSizePerMsg and MaxInflightMsgs tune raft's flow control; defaults 64 KiB and 64.
	MaxSizePerMsg   uint64
	MaxInflightMsgs int
	NewApp          func() Application
	Bugs            bugs.Set // raft's planted bugs
	// FollowerReads lets a follower serve linearizable reads itself, as etcd does: it asks
	// the leader for a read index (raft forwards the ReadIndex), waits until it has applied
	// that index and answers from its own state. Without it followers redirect reads to the
	// leader. Queries the application marks as leader-only (LeaderOnly) always go to the
	// leader.
	FollowerReads bool
	// Name and ClientURLs are this member's attributes, announced to the other members
	// (see Announce); empty in most simulations, which then send no announcements.
	Name       string
	ClientURLs []string
}

const (
	timerTick     = 1
	timerSlowSync = 2
)

// Server is one member: raft, its write-ahead log on the component disk, and the
// application. Build it with NewServer.
type Server struct {
	cfg  Config
	r    *rand.Rand
	node *raft.Node
	ms   *raft.MemoryStorage
	app  Application
	sess sessions
	lead uint64

	applied, snapIndex uint64
	segment            int                    // the WAL segment appends go to
	lowSegment         int                    // the oldest segment that may still exist
	oldSegments        []string               // removed once the rotation sync completes
	rotateSync         uint64                 // the sync that makes the new segment durable
	syncID             uint64                 // last Sync issued
	inflight           *raft.Ready            // a Ready waiting for its sync
	inflightSync       uint64                 // ... and that sync
	waiting            map[[2]uint64]c.NodeID // write requests to answer when applied
	readCtx            uint64                 // ReadIndex contexts handed out
	readNonce          uint64                 // this incarnation's mark on follower read contexts (0: none drawn yet)
	readsAsked         map[uint64]waitingRead // by context
	readsReady         []waitingRead          // read index known, waiting for apply
	refusing           string                 // non-empty: the WAL is corrupt, stay down
	members            []Member               // the replicated member table, by ID
	confWait           *confWaiter            // the client of the conf change proposed here
	ticks              int                    // ticks since start
	slowSync           uint64                 // a sync whose completion a fault point holds back
	heldSync           uint64                 // a completed sync held back (the highest)
	front              front                  // the calls of the callers attached here
	removing           bool                   // removed from the cluster: halting soon
	removedAt          uint64                 // the index of this server's own removal, once applied
	removedIDs         map[uint64]bool        // members whose removal was applied here
	tableIndex         uint64                 // the index of the last conf change applied (or covered by a snapshot)
	announced          map[uint64]Announce    // what the other members announced
}

type waitingRead struct {
	index uint64
	from  c.NodeID
	req   Request
}

// NewServer returns a server; its state arrives with Start.
func NewServer(cfg Config, r *rand.Rand) *Server {
	if cfg.Tick == 0 {
		cfg.Tick = 10 * time.Millisecond
	}
	if cfg.MaxSizePerMsg == 0 {
		cfg.MaxSizePerMsg = 64 << 10
	}
	if cfg.MaxInflightMsgs == 0 {
		cfg.MaxInflightMsgs = 64
	}
	return &Server{cfg: cfg, r: r}
}

// Handle implements component.Component.
func (s *Server) Handle(now time.Duration, in c.Input) []c.Effect {
	if s.refusing != "" {
		return nil
	}
	if t, ok := s.app.(Timed); ok {
		t.Now(now)
	}
	var effs []c.Effect
	switch in := in.(type) {
	case c.Start:
		effs = s.start(in.Disk)
	case c.TimerFired:
		switch in.ID {
		case timerTick:
			s.node.Tick()
			effs = append(effs, c.SetTimer{ID: timerTick, After: s.cfg.Tick})
			s.proposeDue()
			effs = append(effs, s.resend()...)
			effs = append(effs, s.announce()...)
			if s.ticks++; s.ticks%10 == 0 && s.lead != uint64(s.cfg.ID) {
				effs = append(effs, c.FaultPoint{Name: FaultSpuriousElection})
			}
		case timerSlowSync:
			effs = s.releaseSync()
		case timerRemoved:
			return []c.Effect{c.Halt{Reason: ReasonRemoved}}
		}
	case c.FaultFired:
		effs = s.fired(in.Name)
	case c.Receive:
		effs = s.receive(in.From, in.Msg)
	case c.Synced:
		if in.Err != nil {
			return []c.Effect{c.Halt{Reason: fmt.Sprintf("wal sync %d: %v", in.ID, in.Err)}}
		}
		effs = s.syncDone(in.ID)
	}
	if s.node == nil {
		return effs
	}
	return s.loopback(append(append(effs, s.drive()...), s.marks()...))
}

// start rebuilds raft's durable state from the WAL segments. A corrupt record means the
// node lost state it once synced (a vote, acknowledged entries); rejoining as if nothing
// happened could break the very guarantees raft relies on, so, like etcd, it refuses to run
// and stays down until an operator replaces it.
func (s *Server) start(d c.Recovery) []c.Effect {
	if len(d.Corrupt) > 0 {
		s.refusing = fmt.Sprintf("corrupt wal record in %s at %d", d.Corrupt[0].File, d.Corrupt[0].Index)
		return []c.Effect{Refused{Reason: s.refusing}}
	}
	if len(d.Files[removedFile]) > 0 {
		s.refusing = "this member was " + ReasonRemoved + " (remove its data dir and add it again to rejoin)"
		return []c.Effect{Refused{Reason: s.refusing}}
	}
	s.ms = raft.NewMemoryStorage()
	for _, name := range s.segments(d) {
		n, _ := segmentNumber(name)
		s.segment = max(s.segment, n)
		for _, rec := range d.Files[name] {
			if err := replay(s.ms, rec); err != nil {
				panic(fmt.Sprintf("rsm: %s: a record that passed its checksum does not replay: %v", name, err))
			}
		}
	}
	s.lowSegment = 1
	s.app, s.sess = s.cfg.NewApp(), sessions{}
	s.members = cloneMembers(s.cfg.Members)
	slices.SortFunc(s.members, func(a, b Member) int { return cmp.Compare(a.ID, b.ID) })
	s.waiting, s.readsAsked, s.readsReady = map[[2]uint64]c.NodeID{}, map[uint64]waitingRead{}, nil
	snap, _ := s.ms.Snapshot()
	if !snap.IsEmpty() {
		s.restore(snap)
	}
	s.node = s.newNode(snap)
	// Never append to a segment found on disk: it may be the remains of an interrupted
	// rotation, whose base is incomplete. Start a fresh segment from what was recovered.
	effs := s.rotate(snap)
	return append(effs, c.SetTimer{ID: timerTick, After: s.cfg.Tick})
}

// segments lists the WAL segment files in replay order.
func (s *Server) segments(d c.Recovery) []string {
	var names []string
	for name := range d.Files {
		names = append(names, name)
	}
	names = slices.DeleteFunc(names, func(name string) bool {
		_, ok := segmentNumber(name)
		return !ok // other files belong to the driver
	})
	slices.SortFunc(names, func(a, b string) int {
		x, _ := segmentNumber(a)
		y, _ := segmentNumber(b)
		return x - y
	})
	return names
}

func (s *Server) newNode(snap raft.Snapshot) *raft.Node {
	cfg := raft.Config{
		ID: uint64(s.cfg.ID), Storage: s.ms, Rand: s.r,
		ElectionTick: s.cfg.ElectionTick, HeartbeatTick: s.cfg.HeartbeatTick,
		PreVote: true, CheckQuorum: true, Applied: s.applied,
		MaxSizePerMsg: s.cfg.MaxSizePerMsg, MaxInflightMsgs: s.cfg.MaxInflightMsgs, Bugs: raftBugs(s.cfg.Bugs),
	}
	if snap.IsEmpty() {
		for _, p := range s.cfg.Peers {
			cfg.Peers = append(cfg.Peers, uint64(p))
		}
	}
	n, err := raft.NewNode(cfg)
	if err != nil {
		panic(fmt.Sprintf("rsm: raft config: %v", err))
	}
	return n
}

// restore loads a snapshot into the member table, the sessions and the application. A
// snapshot without a table (written before there was one) keeps the configured table.
func (s *Server) restore(snap raft.Snapshot) {
	ms, rest, err := splitTable(snap.Data)
	if err != nil {
		panic(fmt.Sprintf("rsm: snapshot at %d: member table: %v", snap.Metadata.Index, err))
	}
	if ms != nil {
		s.members = ms
	}
	sess, rest, err := decodeSessions(rest)
	if err != nil {
		panic(fmt.Sprintf("rsm: snapshot at %d: sessions: %v", snap.Metadata.Index, err))
	}
	if err := s.app.Restore(rest); err != nil {
		panic(fmt.Sprintf("rsm: snapshot at %d: %v", snap.Metadata.Index, err))
	}
	s.sess, s.applied, s.snapIndex = sess, snap.Metadata.Index, snap.Metadata.Index
	s.tableIndex = snap.Metadata.Index
}

func (s *Server) receive(from c.NodeID, msg c.Message) []c.Effect {
	switch m := msg.(type) {
	case peer:
		_ = s.node.Step(m.M) // messages from stale terms or unknown peers are dropped by raft
		return s.fromRemoved(from)
	case Request:
		return s.request(from, m)
	case Reply, Redirect:
		return s.frontReply(m)
	case Call:
		return s.call(from, m)
	case Abandon:
		return s.abandon(from, m)
	case RemovedNotice:
		return s.removed()
	case Announce:
		if s.announced == nil {
			s.announced = map[uint64]Announce{}
		}
		s.announced[uint64(from)] = m
	}
	return nil
}

// request starts serving a client request, or redirects it when this server is not the
// leader: clients must talk to the leader so that their reads are linearizable.
func (s *Server) request(from c.NodeID, req Request) []c.Effect {
	if req.Stream {
		st, ok := s.app.(Streamer)
		if !ok {
			return nil
		}
		reply := c.Send{To: from, Msg: Reply{Client: req.Client, Seq: req.Seq, Result: st.Subscribe(req.Client, req.Payload)}}
		return append([]c.Effect{reply}, s.pushes()...)
	}
	if req.Local {
		l, ok := s.app.(Local)
		if !ok {
			return nil
		}
		leader := s.lead == uint64(s.cfg.ID)
		return []c.Effect{c.Send{To: from, Msg: Reply{Client: req.Client, Seq: req.Seq, Result: l.Local(req.Payload, leader)}}}
	}
	if req.Conf && len(req.Payload) > 0 {
		return s.confRequest(from, req)
	}
	if req.Read && s.cfg.Bugs.On(BugStaleRead) {
		// The planted bug: any server answers from whatever it has applied.
		return []c.Effect{c.Send{To: from, Msg: Reply{Client: req.Client, Seq: req.Seq, Result: s.app.Read(req.Payload)}}}
	}
	leader := s.lead == uint64(s.cfg.ID)
	if req.Read && !leader && s.cfg.FollowerReads && s.lead != 0 && !s.leaderOnly(req.Payload) {
		return append(s.readIndex(from, req), c.Probe{Name: ProbeFollowerRead})
	}
	if !leader {
		effs := []c.Effect{c.Send{To: from, Msg: Redirect{Client: req.Client, Seq: req.Seq, Leader: s.lead}}}
		if s.lead == 0 {
			effs = append(effs, c.Probe{Name: ProbeRedirectNoLeader})
		}
		return effs
	}
	if req.Read || req.Conf { // a Conf request without payload reads the member table
		return s.readIndex(from, req)
	}
	switch result, d := s.sess.lookup(req.Client, req.Seq); {
	case req.Seq == 0: // not deduplicated
	case d == dupLatest:
		return []c.Effect{c.Send{To: from, Msg: Reply{Client: req.Client, Seq: req.Seq, Result: result}}}
	case d == dupStale:
		return nil // an old duplicate: the client has moved on
	}
	if err := s.node.Propose(encodeProposal(req)); err != nil {
		return []c.Effect{c.Send{To: from, Msg: Redirect{Client: req.Client, Seq: req.Seq}}}
	}
	s.waiting[[2]uint64{req.Client, req.Seq}] = from
	return nil
}

// readIndex asks raft for a read index (the leader confirms its leadership with a
// heartbeat round; a follower's request is forwarded to the leader) and serves the read
// once this server has applied that index.
func (s *Server) readIndex(from c.NodeID, req Request) []c.Effect {
	s.readCtx++
	ctx := binary.AppendUvarint(nil, s.readCtx)
	if s.lead != uint64(s.cfg.ID) {
		ctx = s.followerReadContext()
	}
	if err := s.node.ReadIndex(ctx); err != nil {
		// No leader to ask, or a leader that cannot serve reads right now (a transfer is
		// on): naming a leader would send the client straight back here, so name none and
		// let it back off.
		return []c.Effect{c.Send{To: from, Msg: Redirect{Client: req.Client, Seq: req.Seq}}}
	}
	s.readsAsked[s.readCtx] = waitingRead{from: from, req: req}
	return nil
}

// followerReadContext makes the context of a follower's ReadIndex request. The leader
// keeps one pending request per context, from every member, so a follower's contexts must
// not collide with the leader's own (a bare counter, never starting with a 0 byte) nor
// with other members' nor with those of this member's earlier incarnation still pending
// at the leader (whose answer would otherwise serve a new read at an old index): 0, the
// member ID, a nonce drawn once per incarnation, the counter.
func (s *Server) followerReadContext() []byte {
	if s.readNonce == 0 {
		s.readNonce = s.r.Uint64() | 1 // drawn lazily: runs without follower reads keep their draws
	}
	ctx := []byte{0}
	ctx = binary.AppendUvarint(ctx, uint64(s.cfg.ID))
	ctx = binary.AppendUvarint(ctx, s.readNonce)
	return binary.AppendUvarint(ctx, s.readCtx)
}

// readContextKey returns the counter of a ReadIndex context this server made, and false
// for another member's or another incarnation's.
func (s *Server) readContextKey(ctx []byte) (uint64, bool) {
	if len(ctx) == 0 {
		return 0, false
	}
	if ctx[0] != 0 {
		k, n := binary.Uvarint(ctx)
		return k, n > 0 && n == len(ctx)
	}
	r := &reader{b: ctx[1:]}
	id, nonce, k := r.uvarint(), r.uvarint(), r.uvarint()
	return k, r.err == nil && len(r.b) == 0 && id == uint64(s.cfg.ID) && nonce == s.readNonce && nonce != 0
}

// leaderOnly reports whether the application wants the query served by the leader.
func (s *Server) leaderOnly(query []byte) bool {
	lo, ok := s.app.(LeaderOnly)
	return ok && lo.LeaderOnly(query)
}

// proposeDue proposes, as leader, what a Timed application asks for. These proposals
// carry seq 0, which the session table does not track: they are not retried by anyone,
// and the application makes them idempotent (an expiry of a lease already gone does
// nothing).
func (s *Server) proposeDue() {
	t, ok := s.app.(Timed)
	if !ok || s.lead != uint64(s.cfg.ID) {
		return
	}
	for _, cmd := range t.Due() {
		_ = s.node.Propose(encodeProposal(Request{Payload: cmd})) // refused only when no longer leader
	}
}

// raftBugs keeps the bugs raft itself plants; raft refuses names it does not know.
func raftBugs(all bugs.Set) bugs.Set {
	var names []string
	for _, n := range all.Names() {
		if raft.Bugs.Has(n) {
			names = append(names, n)
		}
	}
	return bugs.With(names...)
}

// pushes sends what a streaming application has queued.
func (s *Server) pushes() []c.Effect {
	st, ok := s.app.(Streamer)
	if !ok {
		return nil
	}
	var effs []c.Effect
	for _, p := range st.Outbox() {
		if e, ok := s.frontPush(p); ok {
			effs = append(effs, e)
			continue
		}
		effs = append(effs, c.Send{To: c.NodeID(p.Client), Msg: Pushed{Data: p.Data}})
	}
	return effs
}

// Status reports raft's view of this server, for a real host's status endpoints; ok is
// false before Start.
func (s *Server) Status() (st raft.Status, ok bool) {
	if s.node == nil {
		return raft.Status{}, false
	}
	return s.node.Status(), true
}

// BasicStatus is Status without the configuration and the leader's progress map, for a
// driver that refreshes its view after every input.
func (s *Server) BasicStatus() (st raft.Status, ok bool) {
	if s.node == nil {
		return raft.Status{}, false
	}
	return s.node.BasicStatus(), true
}

// TransferLeader asks this server, if it leads, to hand leadership to the given member.
func (s *Server) TransferLeader(to c.NodeID) error {
	if s.node == nil {
		return fmt.Errorf("rsm: not started")
	}
	return s.node.TransferLeader(uint64(to))
}

// App returns the application, for read-only status queries by the driver that owns
// this server (on the goroutine that calls Handle).
func (s *Server) App() Application { return s.app }
