package raft

func (n *Node) stepLeader(m Message) error {
	switch m.Type {
	case MsgProp:
		return n.propose(m.Entries)
	case MsgReadIndex:
		n.handleReadIndex(m)
		return nil
	case MsgTransferLeader:
		n.handleTransfer(m.From)
		return nil
	}
	pr := n.progress[m.From]
	if pr == nil {
		return nil // not (or no longer) a member
	}
	pr.RecentActive = true
	switch m.Type {
	case MsgAppResp:
		n.handleAppendResp(m, pr)
	case MsgHeartbeatResp:
		n.handleHeartbeatResp(m, pr)
	}
	return nil
}

// propose appends client entries (leader only).
func (n *Node) propose(ents []Entry) error {
	if len(ents) == 0 {
		return nil
	}
	if n.progress[n.id] == nil || n.leadTransferee != 0 {
		return ErrProposalDropped
	}
	out := make([]Entry, 0, len(ents))
	confPending := n.confChangeBlocked()
	var firstErr error
	for _, e := range ents {
		if e.Type == EntryConfChange {
			data, err := n.prepareConfChange(e.Data, confPending)
			if err != nil {
				firstErr = err
				continue
			}
			e.Data = data
			confPending = true // one change at a time, also within a batch
		}
		out = append(out, Entry{Type: e.Type, Data: e.Data})
	}
	if len(out) == 0 {
		return firstErr
	}
	if !n.appendEntries(out) {
		return ErrProposalDropped
	}
	n.bcastAppend()
	return firstErr
}

// confChangeBlocked reports whether a membership change must wait: the last one is not
// committed yet, or this leader has not committed an entry of its term (that would let a
// change race with an uncommitted change of a previous leader).
func (n *Node) confChangeBlocked() bool {
	return n.confs.current().Index > n.log.committed || n.log.committed < n.termStart
}

// prepareConfChange validates a proposed change against the current configuration and
// re-encodes it with the resulting configuration.
func (n *Node) prepareConfChange(data []byte, blocked bool) ([]byte, error) {
	cce, err := DecodeConfChange(data)
	if err != nil {
		return nil, err
	}
	if blocked {
		return nil, ErrConfChangePending
	}
	next, err := n.config().Apply(cce.Change)
	if err != nil {
		return nil, err
	}
	return EncodeConfChange(ConfChangeEntry{Change: cce.Change, State: next}), nil
}

// appendEntries appends entries of the current term to the leader's log. The leader's own
// progress is not advanced: it counts towards a quorum only once the driver reports the
// entries durable (Advance).
func (n *Node) appendEntries(ents []Entry) bool {
	size := entsSize(ents)
	if n.maxUncommitted > 0 && n.uncommittedSize > 0 && n.uncommittedSize+size > n.maxUncommitted {
		return false
	}
	n.uncommittedSize += size
	last := n.log.lastIndex()
	for i := range ents {
		ents[i].Term = n.term
		ents[i].Index = last + 1 + uint64(i)
	}
	n.log.append(ents...)
	n.onAppended(ents)
	return true
}

// bcastAppend sends appends (or probes) to every peer that is not paused.
func (n *Node) bcastAppend() {
	for _, id := range n.peers() {
		if pr := n.progress[id]; pr != nil {
			n.sendAppend(id, pr, true)
		}
	}
}

// sendAppend sends the next batch of entries to a peer, or a snapshot if they were
// compacted away. With sendIfEmpty it also sends an empty append (a probe, or to convey
// the commit index). It reports whether something was sent.
func (n *Node) sendAppend(to uint64, pr *Progress, sendIfEmpty bool) bool {
	if pr.isPaused() {
		return false
	}
	prevIndex := pr.Next - 1
	prevTerm, errTerm := n.log.term(prevIndex)
	ents, errEnts := n.log.entriesFrom(pr.Next, n.maxMsgSize)
	if errTerm != nil || errEnts != nil {
		return n.sendSnapshot(to, pr)
	}
	if len(ents) == 0 && !sendIfEmpty {
		return false
	}
	n.send(Message{Type: MsgApp, To: to, Index: prevIndex, LogTerm: prevTerm, Entries: ents, Commit: n.log.committed})
	last := prevIndex + uint64(len(ents))
	pr.sentEntries(len(ents), last, entsSize(ents))
	return true
}

func (n *Node) sendSnapshot(to uint64, pr *Progress) bool {
	if !pr.RecentActive {
		return false
	}
	snap, err := n.log.snapshot()
	if err != nil || snap.IsEmpty() {
		return false // temporarily unavailable: retried on the next heartbeat response
	}
	pr.becomeSnapshot(snap.Metadata.Index)
	n.send(Message{Type: MsgSnap, To: to, Snapshot: &snap})
	return true
}

func (n *Node) handleAppendResp(m Message, pr *Progress) {
	if m.Reject {
		n.handleAppendReject(m, pr)
		return
	}
	wasPaused := pr.isPaused()
	// An answer to a probe that only confirms Match also proves the logs match there.
	confirmsProbe := pr.State == StateProbe && m.Index == pr.Match
	if !pr.maybeUpdate(m.Index) && !confirmsProbe {
		return
	}
	switch pr.State {
	case StateProbe:
		pr.becomeReplicate()
	case StateSnapshot:
		if pr.Match+1 >= n.log.firstIndex() {
			pr.becomeProbe()
			pr.becomeReplicate()
		}
	case StateReplicate:
		pr.Inflights.freeLE(m.Index)
	}
	if n.maybeCommit() {
		n.bcastAppend()
	} else if wasPaused {
		n.sendAppend(m.From, pr, true) // it may have missed the commit index
	}
	for n.role == RoleLeader && n.sendAppend(m.From, pr, false) {
	}
	if n.role == RoleLeader && m.From == n.leadTransferee && pr.Match == n.log.lastIndex() {
		n.send(Message{Type: MsgTimeoutNow, To: m.From})
	}
}

func (n *Node) handleAppendReject(m Message, pr *Progress) {
	next := m.RejectHint
	if m.LogTerm > 0 {
		// Skip every entry of ours whose term is above the follower's term at the hint.
		next, _ = n.log.findConflictByTerm(m.RejectHint, m.LogTerm)
	}
	if pr.maybeDecrTo(m.Index, next) {
		if pr.State == StateReplicate {
			pr.becomeProbe()
		}
		n.sendAppend(m.From, pr, true)
	}
}

func (n *Node) handleHeartbeatResp(m Message, pr *Progress) {
	pr.ProbeSent = false
	if pr.State == StateReplicate && pr.Inflights.Full() {
		pr.Inflights.freeFirst()
	}
	if pr.State == StateSnapshot {
		// The snapshot may have been lost: after an election timeout's worth of heartbeat
		// responses, probe again (which resends it if still needed).
		if pr.snapWait++; pr.snapWait >= n.electionTimeout {
			pr.becomeProbe()
		}
	}
	if pr.Match < n.log.lastIndex() || pr.State == StateProbe {
		n.sendAppend(m.From, pr, true)
	}
	n.readAck(m)
}

// maybeCommit advances the commit index to the highest index stored by a quorum, if that
// entry is of the current term (raft paper figure 8: counting replicas commits only
// entries of the leader's own term; earlier ones commit indirectly).
func (n *Node) maybeCommit() bool {
	mci := committedIndex(n.config().Voters, func(id uint64) uint64 {
		if pr := n.progress[id]; pr != nil {
			return pr.Match
		}
		return 0
	})
	if mci <= n.log.committed {
		return false
	}
	if n.log.termOrZero(mci) != n.term && !n.bugs.On(BugCommitOldTerm) {
		return false
	}
	n.log.commitTo(mci)
	n.afterCommit()
	return true
}

// afterCommit releases reads waiting for the first commit of the term and steps down a
// leader whose removal is now committed.
func (n *Node) afterCommit() {
	n.releasePendingReads()
	cur := n.confs.current()
	if cur.Index <= n.log.committed && !n.isVoter(n.id) {
		n.bcastAppend() // let the others learn the commit before we go quiet
		n.becomeFollower(n.term, 0)
	}
}

func (n *Node) bcastHeartbeat(ctx []byte) {
	for _, id := range n.peers() {
		pr := n.progress[id]
		if pr == nil {
			continue
		}
		commit := min(pr.Match, n.log.committed)
		n.send(Message{Type: MsgHeartbeat, To: id, Commit: commit, Context: ctx})
	}
}

// handleTransfer starts a leadership transfer to id.
func (n *Node) handleTransfer(id uint64) {
	pr := n.progress[id]
	if pr == nil || pr.IsLearner || id == n.id || id == n.leadTransferee {
		return
	}
	n.leadTransferee = id
	n.electionElapsed = 0
	if pr.Match == n.log.lastIndex() {
		n.send(Message{Type: MsgTimeoutNow, To: id})
		return
	}
	n.sendAppend(id, pr, true)
}
