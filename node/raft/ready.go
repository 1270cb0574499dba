package raft

import "errors"

// Ready is a batch of effects for the driver. See the package documentation for the order
// in which the driver must carry them out.
type Ready struct {
	// SoftState is set when the leader or the role changed.
	SoftState *SoftState
	// HardState is set (non-empty) when the term, vote or commit index changed.
	HardState HardState
	// Entries must be appended to stable storage (replacing any entries at the same and
	// later indexes).
	Entries []Entry
	// Snapshot, when not empty, must be installed in stable storage and in the application.
	Snapshot Snapshot
	// CommittedEntries must be applied, in order, after Snapshot and after Entries are
	// written.
	CommittedEntries []Entry
	// ReadStates answer ReadIndex requests.
	ReadStates []ReadState
	// Messages may be sent at once, even before Entries and HardState are durable.
	Messages []Message
	// MessagesAfterSync may be sent only after Entries, HardState and Snapshot of this
	// Ready are durably synced (votes and append acknowledgements).
	MessagesAfterSync []Message
	// MustSync says that Entries, Snapshot or the term/vote changed: the writes must be
	// synced before MessagesAfterSync go out and before Advance.
	MustSync bool
}

// readyMark remembers what a Ready handed out, for Advance.
type readyMark struct {
	lastIndex, lastTerm uint64
	snapIndex           uint64
	applying            uint64
	term                uint64 // the term of the HardState handed out
}

// ErrNoReady is returned by Advance without a preceding Ready.
var ErrNoReady = errors.New("raft: Advance without Ready")

// HasReady reports whether Ready would return anything.
func (n *Node) HasReady() bool {
	if n.softState() != n.prevSoft || n.reportedHardState() != n.prevHard {
		return true
	}
	u := &n.log.unstable
	return u.snapshot != nil || len(u.entries) > 0 || len(n.msgs) > 0 ||
		len(n.msgsAfterSync) > 0 || len(n.readStates) > 0 || n.log.hasNextCommitted()
}

// reportedHardState is the HardState as handed to the driver (the vote-twice bug drops the
// vote from it).
func (n *Node) reportedHardState() HardState {
	hs := n.hardState()
	if n.bugs.On(BugVoteTwice) {
		hs.Vote = 0
	}
	return hs
}

// Ready returns the pending effects. The driver must call Advance after carrying them out
// and before calling Ready again. Step, Tick and the request methods may be called in
// between; their effects go into the next Ready.
func (n *Node) Ready() Ready {
	if n.inReady != nil {
		panic("raft: Ready called again before Advance")
	}
	u := &n.log.unstable
	rd := Ready{
		Entries:           u.entries,
		CommittedEntries:  n.log.nextCommitted(),
		ReadStates:        n.readStates,
		Messages:          n.msgs,
		MessagesAfterSync: n.msgsAfterSync,
	}
	if ss := n.softState(); ss != n.prevSoft {
		rd.SoftState = &ss
		n.prevSoft = ss
	}
	hs := n.reportedHardState()
	if hs != n.prevHard {
		rd.HardState = hs
		rd.MustSync = hs.Term != n.prevHard.Term || hs.Vote != n.prevHard.Vote
		n.prevHard = hs
	}
	if u.snapshot != nil {
		rd.Snapshot = *u.snapshot
	}
	rd.MustSync = rd.MustSync || len(rd.Entries) > 0 || !rd.Snapshot.IsEmpty()
	n.inReady = n.markReady(rd)
	n.msgs, n.msgsAfterSync, n.readStates = nil, nil, nil
	return rd
}

func (n *Node) markReady(rd Ready) *readyMark {
	mark := &readyMark{applying: n.log.applying, snapIndex: rd.Snapshot.Metadata.Index, term: n.prevHard.Term}
	if k := len(rd.Entries); k > 0 {
		mark.lastIndex, mark.lastTerm = rd.Entries[k-1].Index, rd.Entries[k-1].Term
	}
	if k := len(rd.CommittedEntries); k > 0 {
		mark.applying = rd.CommittedEntries[k-1].Index
		n.log.applying = mark.applying
		n.reduceUncommitted(rd.CommittedEntries)
	}
	return mark
}

func (n *Node) reduceUncommitted(ents []Entry) {
	if n.role != RoleLeader {
		return
	}
	n.uncommittedSize -= min(n.uncommittedSize, entsSize(ents))
}

// Advance tells the node that the last Ready was carried out: its Entries, HardState and
// Snapshot are durable and its CommittedEntries applied.
func (n *Node) Advance() error {
	mark := n.inReady
	if mark == nil {
		return ErrNoReady
	}
	n.inReady = nil
	if mark.snapIndex > 0 {
		n.log.unstable.stableSnapTo(mark.snapIndex)
	}
	if mark.lastIndex > 0 {
		n.log.unstable.stableTo(mark.lastIndex, mark.lastTerm)
	}
	n.log.applied = max(n.log.applied, mark.applying)
	n.syncedTerm = max(n.syncedTerm, mark.term)
	n.confs.compact(n.log.firstIndex() - 1)
	n.onPersisted()
	return nil
}

// onPersisted lets a leader count its own durable entries towards the quorum.
func (n *Node) onPersisted() {
	if n.role != RoleLeader {
		return
	}
	pr := n.progress[n.id]
	if pr == nil || !pr.maybeUpdate(n.log.persistedLast()) {
		return
	}
	if n.maybeCommit() {
		n.bcastAppend()
	}
}
