package raft

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/orrery/orrery/node/bugs"
)

// Errors returned to local callers.
var (
	// ErrProposalDropped: the proposal was not accepted (no leader known, leadership
	// transfer in progress, this leader was removed, or the uncommitted-size limit is hit).
	ErrProposalDropped = errors.New("raft: proposal dropped")
	// ErrConfChangePending: a leader refuses a membership change while another is not yet
	// committed or while it has not yet committed an entry of its own term.
	ErrConfChangePending = errors.New("raft: conf change refused: previous change pending or leader has not committed in its term")
)

// Node is the raft state machine of one member. It is not safe for concurrent use: a single
// driver calls it (see the package documentation for the protocol).
type Node struct {
	id   uint64
	term uint64
	vote uint64
	log  *raftLog
	role Role
	lead uint64

	confs    confLog
	progress map[uint64]*Progress // leader only: voters and learners of the current config
	votes    map[uint64]bool

	msgs          []Message
	msgsAfterSync []Message
	readStates    []ReadState

	electionElapsed  int
	heartbeatElapsed int
	electionTimeout  int
	heartbeatTimeout int
	randomizedTimout int
	rand             *rand.Rand

	preVote, checkQuorum bool
	maxMsgSize           uint64
	maxInflight          int
	maxInflightBytes     uint64
	maxUncommitted       uint64
	uncommittedSize      uint64

	leadTransferee uint64
	termStart      uint64 // leader: index of its first entry of this term
	reads          readOnly
	bugs           bugs.Set

	prevSoft SoftState
	prevHard HardState
	// syncedTerm is the term known durable (reported by Advance): messages of a later term
	// wait for the sync, so that no node ever speaks in a term it could forget.
	syncedTerm uint64
	inReady    *readyMark // set between Ready and Advance
}

// NewNode builds a node from cfg and the state in cfg.Storage.
func NewNode(cfg Config) (*Node, error) {
	c := cfg.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	hs, cs, err := c.Storage.InitialState()
	if err != nil {
		return nil, fmt.Errorf("raft: initial state: %w", err)
	}
	n := &Node{
		id: c.ID, log: newLog(c.Storage), rand: c.Rand,
		electionTimeout: c.ElectionTick, heartbeatTimeout: c.HeartbeatTick,
		preVote: c.PreVote, checkQuorum: c.CheckQuorum,
		maxMsgSize: c.MaxSizePerMsg, maxInflight: c.MaxInflightMsgs,
		maxInflightBytes: c.MaxInflightBytes, maxUncommitted: c.MaxUncommittedEntriesSize,
		bugs: c.Bugs,
	}
	if err := n.loadConfig(c, cs); err != nil {
		return nil, err
	}
	if err := n.loadHardState(hs, c.Applied); err != nil {
		return nil, err
	}
	n.becomeFollower(hs.Term, 0)
	n.vote = hs.Vote
	n.syncedTerm = hs.Term
	n.prevHard = n.reportedHardState()
	n.prevSoft = n.softState()
	return n, nil
}

// loadConfig rebuilds the configuration history from the snapshot (or the bootstrap peers)
// and the conf-change entries in the stored log.
func (n *Node) loadConfig(c Config, cs ConfState) error {
	snapIndex := n.log.firstIndex() - 1
	hasPeers := len(c.Peers)+len(c.Learners) > 0
	if hasPeers && snapIndex > 0 {
		return fmt.Errorf("%w: Peers/Learners given but the storage holds a snapshot (at %d)", ErrConfig, snapIndex)
	}
	if hasPeers {
		cs = ConfState{Voters: slices.Sorted(slices.Values(c.Peers)), Learners: slices.Sorted(slices.Values(c.Learners))}
	}
	n.confs = newConfLog(snapIndex, cs)
	last := n.log.lastIndex()
	if last > snapIndex {
		ents, err := n.log.slice(snapIndex+1, last+1, noLimit)
		if err != nil {
			return fmt.Errorf("raft: read log: %w", err)
		}
		n.confs.observe(ents)
	}
	return nil
}

func (n *Node) loadHardState(hs HardState, applied uint64) error {
	first, last := n.log.firstIndex(), n.log.lastIndex()
	if hs.Commit > last {
		return fmt.Errorf("raft: stored commit %d is beyond the last index %d", hs.Commit, last)
	}
	n.log.committed = max(hs.Commit, first-1)
	if applied > n.log.committed {
		return fmt.Errorf("%w: Applied %d is beyond the commit index %d", ErrConfig, applied, n.log.committed)
	}
	n.log.applied = max(applied, first-1)
	n.log.applying = n.log.applied
	return nil
}

func (n *Node) config() ConfState { return n.confs.current().State }

func (n *Node) isVoter(id uint64) bool { return slices.Contains(n.config().Voters, id) }

// promotable reports whether this node may campaign: it is a voter in its latest
// configuration, or in its latest committed one. The second case matters when an
// uncommitted entry removes this node: it may be the only node with that entry, and the
// cluster needs it as leader to commit its own removal (it does not count its own vote).
func (n *Node) promotable() bool {
	if n.log.unstable.snapshot != nil {
		return false
	}
	if n.isVoter(n.id) {
		return true
	}
	cs, err := n.confs.at(n.log.committed)
	return err == nil && slices.Contains(cs.Voters, n.id)
}

func (n *Node) softState() SoftState { return SoftState{Lead: n.lead, Role: n.role} }

func (n *Node) hardState() HardState {
	return HardState{Term: n.term, Vote: n.vote, Commit: n.log.committed}
}

// reset prepares for a new term (or a new role in the same term).
func (n *Node) reset(term uint64) {
	if term != n.term {
		n.term = term
		n.vote = 0
	}
	n.lead = 0
	n.electionElapsed = 0
	n.heartbeatElapsed = 0
	n.randomizedTimout = n.electionTimeout + n.rand.IntN(n.electionTimeout)
	n.leadTransferee = 0
	n.votes = map[uint64]bool{}
	n.progress = nil
	n.reads = readOnly{}
	n.uncommittedSize = 0
}

func (n *Node) becomeFollower(term, lead uint64) {
	n.reset(term)
	n.role = RoleFollower
	n.lead = lead
}

func (n *Node) becomePreCandidate() {
	if n.role == RoleLeader {
		panic("raft: invalid transition leader -> pre-candidate")
	}
	// A pre-candidate keeps its term and vote; only the role and the tally change.
	n.votes = map[uint64]bool{}
	n.lead = 0
	n.role = RolePreCandidate
}

func (n *Node) becomeCandidate() {
	if n.role == RoleLeader {
		panic("raft: invalid transition leader -> candidate")
	}
	n.reset(n.term + 1)
	n.vote = n.id
	n.role = RoleCandidate
}

func (n *Node) becomeLeader() {
	if n.role == RoleFollower {
		panic("raft: invalid transition follower -> leader")
	}
	n.reset(n.term)
	n.role = RoleLeader
	n.lead = n.id
	n.syncProgress()
	n.termStart = n.log.lastIndex() + 1
	// An empty entry of the new term: committing it commits everything before it and
	// unblocks reads and membership changes.
	n.appendEntries([]Entry{{}})
}

// syncProgress makes the progress map match the current configuration (leader only).
func (n *Node) syncProgress() {
	if n.progress == nil {
		n.progress = map[uint64]*Progress{}
	}
	cs := n.config()
	members := map[uint64]bool{}
	for _, id := range cs.Voters {
		members[id] = false
	}
	for _, id := range cs.Learners {
		members[id] = true
	}
	//det:unordered deleting entries; the result does not depend on order
	for id := range n.progress {
		if _, ok := members[id]; !ok {
			delete(n.progress, id)
		}
	}
	//det:unordered each entry is handled independently; no output depends on order
	for id, learner := range members {
		pr := n.progress[id]
		if pr == nil {
			pr = &Progress{Next: n.log.lastIndex() + 1, RecentActive: true, Inflights: newInflights(n.maxInflight, n.maxInflightBytes)}
			if id == n.id {
				pr.Match = n.log.persistedLast()
				pr.State = StateReplicate
			}
			n.progress[id] = pr
		}
		pr.IsLearner = learner
	}
	if n.leadTransferee != 0 && n.progress[n.leadTransferee] == nil {
		n.leadTransferee = 0
	}
}

// peers returns the ids of the other members (voters and learners), sorted.
func (n *Node) peers() []uint64 {
	cs := n.config()
	ids := append(slices.Clone(cs.Voters), cs.Learners...)
	slices.Sort(ids)
	return slices.DeleteFunc(ids, func(id uint64) bool { return id == n.id })
}
