package raft

import "fmt"

// Tick advances the logical clock by one tick.
func (n *Node) Tick() {
	if n.role == RoleLeader {
		n.tickLeader()
		return
	}
	n.electionElapsed++
	if n.promotable() && n.electionElapsed >= n.randomizedTimout {
		n.electionElapsed = 0
		n.hup(false)
	}
}

func (n *Node) tickLeader() {
	n.heartbeatElapsed++
	n.electionElapsed++
	if n.electionElapsed >= n.electionTimeout {
		n.electionElapsed = 0
		if n.checkQuorum && !n.quorumActive() {
			n.becomeFollower(n.term, 0)
			return
		}
		n.leadTransferee = 0 // a transfer that did not finish in an election timeout is aborted
	}
	if n.heartbeatElapsed >= n.heartbeatTimeout {
		n.heartbeatElapsed = 0
		n.bcastHeartbeat(n.reads.lastCtx())
	}
}

// quorumActive reports whether a quorum of voters was heard from since the last check,
// and clears the marks for the next period.
func (n *Node) quorumActive() bool {
	votes := map[uint64]bool{}
	for _, id := range n.config().Voters {
		pr := n.progress[id]
		if pr != nil && (id == n.id || pr.RecentActive) {
			votes[id] = true
		}
		if pr != nil && id != n.id {
			pr.RecentActive = false
		}
	}
	return voteResult(n.config().Voters, votes) == VoteWon
}

// Campaign makes this node start an election now (a pre-election with PreVote).
func (n *Node) Campaign() error {
	if n.role == RoleLeader {
		return nil
	}
	if !n.promotable() {
		return fmt.Errorf("raft: node %d cannot campaign (not a voter)", n.id)
	}
	n.hup(false)
	return nil
}

// hup starts an election; transfer marks one requested by MsgTimeoutNow.
func (n *Node) hup(transfer bool) {
	if n.preVote && !transfer {
		n.campaign(RolePreCandidate, nil)
		return
	}
	var ctx []byte
	if transfer {
		ctx = transferCtx
	}
	n.campaign(RoleCandidate, ctx)
}

var transferCtx = []byte("transfer")

func (n *Node) campaign(role Role, ctx []byte) {
	voteType, term := MsgVote, n.term+1
	if role == RolePreCandidate {
		n.becomePreCandidate()
		voteType = MsgPreVote
	} else {
		n.becomeCandidate()
		term = n.term
	}
	if n.poll(n.id, true) == VoteWon {
		return
	}
	for _, id := range n.config().Voters {
		if id == n.id {
			continue
		}
		n.send(Message{Type: voteType, To: id, Term: term, Index: n.log.lastIndex(), LogTerm: n.log.lastTerm(), Context: ctx})
	}
}

// poll records a vote and acts on the result.
func (n *Node) poll(from uint64, granted bool) VoteResult {
	n.votes[from] = granted
	res := voteResult(n.config().Voters, n.votes)
	switch res {
	case VoteWon:
		if n.role == RolePreCandidate {
			n.campaign(RoleCandidate, nil)
		} else {
			n.becomeLeader()
			n.bcastAppend()
		}
	case VoteLost:
		n.becomeFollower(n.term, 0)
	}
	return res
}
