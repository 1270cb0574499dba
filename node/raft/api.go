package raft

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Propose asks for data to be appended to the log. A follower forwards the proposal to
// the leader; ErrProposalDropped when no leader is known or the leader refuses it. A nil
// error does not mean the entry will commit: watch CommittedEntries.
func (n *Node) Propose(data []byte) error {
	return n.Step(Message{Type: MsgProp, From: n.id, Entries: []Entry{{Data: data}}})
}

// ProposeConfChange asks for a membership change. Changes are made one at a time: a leader
// refuses (ErrConfChangePending) while a previous change is uncommitted or before it has
// committed an entry of its own term, and rejects invalid changes (ErrBadConfChange).
// Forwarded changes that the leader refuses are dropped silently.
func (n *Node) ProposeConfChange(cc ConfChange) error {
	data := EncodeConfChange(ConfChangeEntry{Change: cc})
	return n.Step(Message{Type: MsgProp, From: n.id, Entries: []Entry{{Type: EntryConfChange, Data: data}}})
}

// ErrEmptyReadContext is returned by ReadIndex for an empty context.
var ErrEmptyReadContext = errors.New("raft: ReadIndex needs a non-empty, unique context")

// ReadIndex requests a linearizable read point. The answer arrives as a ReadState with the
// same context in a later Ready (possibly never, if leadership changes: retry with a new
// context). ctx must be unique among outstanding requests.
func (n *Node) ReadIndex(ctx []byte) error {
	if len(ctx) == 0 {
		return ErrEmptyReadContext
	}
	return n.Step(Message{Type: MsgReadIndex, From: n.id, Context: slices.Clone(ctx)})
}

// TransferLeader asks the leader to hand leadership to the voter to. The leader stops
// accepting proposals until the transfer completes or an election timeout passes.
func (n *Node) TransferLeader(to uint64) error {
	return n.Step(Message{Type: MsgTransferLeader, From: to, Term: n.term})
}

// ReportSnapshot tells a leader whether the snapshot it sent to id was delivered; after a
// failure it probes again (resending the snapshot if still needed).
func (n *Node) ReportSnapshot(id uint64, failed bool) {
	pr := n.progress[id]
	if n.role != RoleLeader || pr == nil || pr.State != StateSnapshot {
		return
	}
	if failed {
		pr.PendingSnapshot = 0
	}
	pr.becomeProbe()
	pr.ProbeSent = true // wait for the follower's answer or a heartbeat response
}

// ReportUnreachable tells a leader that the last message to id was lost: it falls back
// to probing.
func (n *Node) ReportUnreachable(id uint64) {
	if pr := n.progress[id]; n.role == RoleLeader && pr != nil && pr.State == StateReplicate {
		pr.becomeProbe()
	}
}

// ConfStateAt returns the configuration in force at index i (i at or above the snapshot
// index; typically the applied index, for Storage.CreateSnapshot).
func (n *Node) ConfStateAt(i uint64) (ConfState, error) {
	cs, err := n.confs.at(i)
	if err != nil {
		return ConfState{}, fmt.Errorf("conf state at %d: %w", i, err)
	}
	return ConfState{Voters: slices.Clone(cs.Voters), Learners: slices.Clone(cs.Learners)}, nil
}

// ID returns the node's id.
func (n *Node) ID() uint64 { return n.id }

// Status describes the node for tests and tooling.
type Status struct {
	ID        uint64
	HardState HardState
	SoftState SoftState
	Applied   uint64
	LastIndex uint64
	Config    ConfState
	// Progress is the leader's view of every member (nil on followers).
	Progress       map[uint64]Progress
	LeadTransferee uint64
}

// BasicStatus returns the node's state without the configuration and the leader's
// progress map, cheaply enough for a driver to call after every input.
func (n *Node) BasicStatus() Status {
	return Status{
		ID: n.id, HardState: n.hardState(), SoftState: n.softState(), Applied: n.log.applied,
		LastIndex: n.log.lastIndex(), LeadTransferee: n.leadTransferee,
	}
}

// Status returns a snapshot of the node's state.
func (n *Node) Status() Status {
	s := n.BasicStatus()
	s.Config, _ = n.ConfStateAt(n.log.lastIndex())
	if n.role == RoleLeader {
		s.Progress = map[uint64]Progress{}
		//det:unordered copying into another map
		for id, pr := range n.progress {
			s.Progress[id] = *pr
		}
	}
	return s
}

// String prints the status on a few lines, members in id order.
func (s Status) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d: %s %s Applied:%d Last:%d %s\n", s.ID, s.SoftState, s.HardState, s.Applied, s.LastIndex, s.Config)
	ids := make([]uint64, 0, len(s.Progress))
	for id := range s.Progress {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		pr := s.Progress[id]
		fmt.Fprintf(&b, "  %d: %s\n", id, pr.String())
	}
	return b.String()
}

// ConfIndex is the log index of the configuration in force: the last conf change entry
// appended (configurations take effect when appended), 0 for the initial one. A state
// machine that keeps its own view of the membership compares it with the index of the
// last change it applied before it computes a new change.
func (n *Node) ConfIndex() uint64 { return n.confs.current().Index }
