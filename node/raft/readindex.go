package raft

// readOnly tracks ReadIndex requests waiting for a heartbeat round to confirm leadership.
type readOnly struct {
	queue []*readRequest // in arrival order
	// waiting holds requests that arrived before this leader committed an entry of its
	// term: until then its commit index may be behind the previous leader's.
	waiting []Message
}

type readRequest struct {
	index uint64
	from  uint64
	ctx   []byte
	acks  map[uint64]bool
}

func (r *readOnly) lastCtx() []byte {
	if len(r.queue) == 0 {
		return nil
	}
	return r.queue[len(r.queue)-1].ctx
}

func (r *readOnly) find(ctx []byte) int {
	for i, rr := range r.queue {
		if string(rr.ctx) == string(ctx) {
			return i
		}
	}
	return -1
}

func (n *Node) committedInTerm() bool {
	return n.log.termOrZero(n.log.committed) == n.term
}

// handleReadIndex serves a ReadIndex request at the leader (m.From is the asker).
func (n *Node) handleReadIndex(m Message) {
	if n.bugs.On(BugReadWithoutQuorum) {
		n.answerRead(m.From, n.log.committed, m.Context)
		return
	}
	if !n.committedInTerm() {
		n.reads.waiting = append(n.reads.waiting, m)
		return
	}
	if len(n.config().Voters) == 1 && n.isVoter(n.id) {
		n.answerRead(m.From, n.log.committed, m.Context) // we are the quorum
		return
	}
	if n.reads.find(m.Context) >= 0 {
		return // the same context is already being confirmed
	}
	n.reads.queue = append(n.reads.queue, &readRequest{
		index: n.log.committed, from: m.From, ctx: m.Context, acks: map[uint64]bool{n.id: true},
	})
	n.bcastHeartbeat(m.Context)
}

// releasePendingReads serves the reads that waited for the first commit of the term.
func (n *Node) releasePendingReads() {
	if len(n.reads.waiting) == 0 || !n.committedInTerm() {
		return
	}
	waiting := n.reads.waiting
	n.reads.waiting = nil
	for _, m := range waiting {
		n.handleReadIndex(m)
	}
}

// readAck counts a heartbeat response towards the read with its context; once a quorum
// confirmed it, that read and every earlier one are answered.
func (n *Node) readAck(m Message) {
	if len(m.Context) == 0 {
		return
	}
	i := n.reads.find(m.Context)
	if i < 0 {
		return
	}
	rr := n.reads.queue[i]
	rr.acks[m.From] = true
	if voteResult(n.config().Voters, rr.acks) != VoteWon {
		return
	}
	done := n.reads.queue[:i+1]
	n.reads.queue = append([]*readRequest(nil), n.reads.queue[i+1:]...)
	for _, r := range done {
		n.answerRead(r.from, r.index, r.ctx)
	}
}

func (n *Node) answerRead(to, index uint64, ctx []byte) {
	if to == n.id || to == 0 {
		n.readStates = append(n.readStates, ReadState{Index: index, RequestCtx: ctx})
		return
	}
	n.send(Message{Type: MsgReadIndexResp, To: to, Index: index, Context: ctx})
}
