package raft

import (
	"bytes"
	"slices"
)

// Step feeds a message from a peer (or a forwarded request) into the state machine.
// Messages of other terms are handled by the term rules of the raft paper; errors are only
// returned for proposals (ErrProposalDropped, ErrConfChangePending).
func (n *Node) Step(m Message) error {
	if m.Term != 0 && !n.checkTerm(m) {
		return nil
	}
	switch m.Type {
	case MsgVote, MsgPreVote:
		n.handleVoteRequest(m)
		return nil
	}
	switch n.role {
	case RoleLeader:
		return n.stepLeader(m)
	case RoleCandidate, RolePreCandidate:
		return n.stepCandidate(m)
	}
	return n.stepFollower(m)
}

// checkTerm applies the term rules; false means the message must be dropped.
func (n *Node) checkTerm(m Message) bool {
	switch {
	case m.Term > n.term:
		return n.onHigherTerm(m)
	case m.Term < n.term:
		n.onLowerTerm(m)
		return false
	}
	return true
}

func (n *Node) onHigherTerm(m Message) bool {
	if m.Type == MsgVote || m.Type == MsgPreVote {
		force := bytes.Equal(m.Context, transferCtx)
		inLease := n.checkQuorum && n.lead != 0 && n.electionElapsed < n.electionTimeout
		if !force && inLease {
			// We hear from a live leader: ignore the disruptive candidate.
			return false
		}
	}
	switch {
	case m.Type == MsgPreVote:
		// Never change the term for a pre-vote.
	case m.Type == MsgPreVoteResp && !m.Reject:
		// A granted pre-vote carries the future term; the candidate bumps it when it
		// campaigns for real.
	case m.Type == MsgApp || m.Type == MsgHeartbeat || m.Type == MsgSnap:
		n.becomeFollower(m.Term, m.From)
	default:
		n.becomeFollower(m.Term, 0)
	}
	return true
}

func (n *Node) onLowerTerm(m Message) {
	switch {
	case m.Type == MsgHeartbeat || m.Type == MsgApp:
		// A stale leader may never learn our term otherwise: with PreVote or CheckQuorum we
		// do not bump terms with votes, and a node that believes it was removed never
		// campaigns. Tell it, so it steps down.
		n.send(Message{Type: MsgAppResp, To: m.From})
	case m.Type == MsgPreVote:
		n.send(Message{Type: MsgPreVoteResp, To: m.From, Reject: true})
	}
}

func (n *Node) handleVoteRequest(m Message) {
	respType := MsgVoteResp
	if m.Type == MsgPreVote {
		respType = MsgPreVoteResp
	}
	canVote := n.vote == m.From ||
		(n.vote == 0 && n.lead == 0) ||
		(m.Type == MsgPreVote && m.Term > n.term)
	if !canVote || !n.log.isUpToDate(m.Index, m.LogTerm) {
		n.send(Message{Type: respType, To: m.From, Reject: true})
		return
	}
	// The response carries the candidate's term so that a pre-candidate counts it.
	n.send(Message{Type: respType, To: m.From, Term: m.Term})
	if m.Type == MsgVote {
		n.electionElapsed = 0
		n.vote = m.From
	}
}

func (n *Node) stepCandidate(m Message) error {
	switch m.Type {
	case MsgProp:
		return ErrProposalDropped
	case MsgApp:
		n.becomeFollower(m.Term, m.From)
		n.handleAppend(m)
	case MsgHeartbeat:
		n.becomeFollower(m.Term, m.From)
		n.handleHeartbeat(m)
	case MsgSnap:
		n.becomeFollower(m.Term, m.From)
		n.handleSnapshot(m)
	case MsgVoteResp:
		if n.role == RoleCandidate {
			n.poll(m.From, !m.Reject)
		}
	case MsgPreVoteResp:
		if n.role == RolePreCandidate {
			n.poll(m.From, !m.Reject)
		}
	case MsgReadIndex:
		return ErrProposalDropped
	}
	return nil
}

func (n *Node) stepFollower(m Message) error {
	switch m.Type {
	case MsgProp, MsgReadIndex, MsgTransferLeader:
		return n.forward(m)
	case MsgApp:
		n.electionElapsed = 0
		n.lead = m.From
		n.handleAppend(m)
	case MsgHeartbeat:
		n.electionElapsed = 0
		n.lead = m.From
		n.handleHeartbeat(m)
	case MsgSnap:
		n.electionElapsed = 0
		n.lead = m.From
		n.handleSnapshot(m)
	case MsgTimeoutNow:
		if n.promotable() {
			n.hup(true)
		}
	case MsgReadIndexResp:
		n.readStates = append(n.readStates, ReadState{Index: m.Index, RequestCtx: m.Context})
	}
	return nil
}

// forward sends a request to the leader, or drops it when no leader is known.
func (n *Node) forward(m Message) error {
	if n.lead == 0 {
		return ErrProposalDropped
	}
	if m.Type == MsgTransferLeader && m.From == n.lead {
		return nil
	}
	m.To = n.lead
	n.send(m)
	return nil
}

func (n *Node) handleAppend(m Message) {
	if m.Index < n.log.committed {
		n.send(Message{Type: MsgAppResp, To: m.From, Index: n.log.committed})
		return
	}
	last, written, ok := n.log.maybeAppend(m.Index, m.LogTerm, m.Commit, m.Entries)
	if ok {
		n.onAppended(written)
		n.send(Message{Type: MsgAppResp, To: m.From, Index: last})
		return
	}
	// Fast backtracking: tell the leader the last index whose term is <= the term of the
	// entry it probed, so it can skip every entry of a term we cannot match.
	hint, hintTerm := n.log.findConflictByTerm(min(m.Index, n.log.lastIndex()), m.LogTerm)
	n.send(Message{Type: MsgAppResp, To: m.From, Index: m.Index, Reject: true, RejectHint: hint, LogTerm: hintTerm})
}

// onAppended updates the configuration after entries were written to the log (replacing
// any entries at and above the first one).
func (n *Node) onAppended(written []Entry) {
	if len(written) == 0 {
		return
	}
	n.confs.truncate(written[0].Index - 1)
	n.confs.observe(written)
	if n.role == RoleLeader {
		n.syncProgress()
	}
}

func (n *Node) handleHeartbeat(m Message) {
	n.log.commitTo(min(m.Commit, n.log.lastIndex()))
	n.send(Message{Type: MsgHeartbeatResp, To: m.From, Context: m.Context})
}

func (n *Node) handleSnapshot(m Message) {
	if m.Snapshot == nil {
		return
	}
	if n.restore(*m.Snapshot) {
		n.send(Message{Type: MsgAppResp, To: m.From, Index: n.log.lastIndex()})
		return
	}
	n.send(Message{Type: MsgAppResp, To: m.From, Index: n.log.committed})
}

// restore installs snapshot s; false if it brings nothing new.
func (n *Node) restore(s Snapshot) bool {
	md := s.Metadata
	if md.Index <= n.log.committed {
		return false
	}
	if n.log.matchTerm(md.Index, md.Term) {
		// We have the snapshot's last entry: just learn that it is committed.
		n.log.commitTo(md.Index)
		return false
	}
	n.log.restore(s)
	n.confs = newConfLog(md.Index, ConfState{
		Voters: slices.Clone(md.ConfState.Voters), Learners: slices.Clone(md.ConfState.Learners),
	})
	return true
}

// send queues m, filling in From and Term, into Messages or MessagesAfterSync.
func (n *Node) send(m Message) {
	if m.From == 0 {
		m.From = n.id
	}
	if m.Term == 0 && m.Type != MsgProp && m.Type != MsgReadIndex {
		m.Term = n.term
	}
	if n.needsSync(m) {
		n.msgsAfterSync = append(n.msgsAfterSync, m)
		return
	}
	n.msgs = append(n.msgs, m)
}

// needsSync reports whether m may only leave once this node's unstable state is durable:
// an append acknowledgement vouches for the entries, a vote (and a candidate's request,
// which carries its own vote) for the term and vote; and no message may carry a term
// that is not yet durable (a single-voter leader elects itself without any vote message).
func (n *Node) needsSync(m Message) bool {
	switch m.Type {
	case MsgAppResp:
		return !n.bugs.On(BugAckBeforeSync)
	case MsgVoteResp, MsgPreVoteResp:
		return !n.bugs.On(BugVoteTwice)
	case MsgVote:
		return true
	case MsgPreVote, MsgProp, MsgReadIndex:
		return false
	}
	return n.term > n.syncedTerm
}
