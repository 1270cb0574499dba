package raft

import "fmt"

// ProgressState is how the leader currently replicates to a peer.
type ProgressState uint8

// The progress states.
const (
	// StateProbe: the leader does not know where the peer's log matches; it sends one
	// append at a time and waits for the answer (or a heartbeat response).
	StateProbe ProgressState = iota
	// StateReplicate: the logs match up to Match; the leader streams appends optimistically,
	// bounded by the in-flight limits.
	StateReplicate
	// StateSnapshot: the peer needs a snapshot; the leader sent one and waits.
	StateSnapshot
)

func (s ProgressState) String() string {
	switch s {
	case StateProbe:
		return "StateProbe"
	case StateReplicate:
		return "StateReplicate"
	case StateSnapshot:
		return "StateSnapshot"
	}
	return fmt.Sprintf("ProgressState(%d)", uint8(s))
}

// Progress is the leader's view of one peer.
type Progress struct {
	// Match is the highest index known to be replicated (for the leader itself: durable).
	Match uint64
	// Next is the next index to send.
	Next  uint64
	State ProgressState
	// ProbeSent pauses a probing peer until it answers.
	ProbeSent bool
	// PendingSnapshot is the index of the snapshot in flight (StateSnapshot).
	PendingSnapshot uint64
	// snapWait counts heartbeat responses while in StateSnapshot, to resend a lost snapshot.
	snapWait int
	// RecentActive is set by any message from the peer and cleared by the CheckQuorum pass.
	RecentActive bool
	IsLearner    bool
	Inflights    *Inflights
}

func (pr *Progress) String() string {
	s := fmt.Sprintf("%s match=%d next=%d", pr.State, pr.Match, pr.Next)
	if pr.IsLearner {
		s += " learner"
	}
	if pr.ProbeSent {
		s += " paused"
	}
	if pr.State == StateSnapshot {
		s += fmt.Sprintf(" pendingSnap=%d", pr.PendingSnapshot)
	}
	if n := pr.Inflights.Count(); n > 0 {
		s += fmt.Sprintf(" inflight=%d", n)
		if pr.Inflights.Full() {
			s += "[full]"
		}
	}
	return s
}

func (pr *Progress) resetState(s ProgressState) {
	pr.ProbeSent = false
	pr.PendingSnapshot = 0
	pr.snapWait = 0
	pr.State = s
	pr.Inflights.reset()
}

func (pr *Progress) becomeProbe() {
	if pr.State == StateSnapshot {
		pending := pr.PendingSnapshot
		pr.resetState(StateProbe)
		pr.Next = max(pr.Match+1, pending+1)
		return
	}
	pr.resetState(StateProbe)
	pr.Next = pr.Match + 1
}

func (pr *Progress) becomeReplicate() {
	pr.resetState(StateReplicate)
	pr.Next = pr.Match + 1
}

func (pr *Progress) becomeSnapshot(index uint64) {
	pr.resetState(StateSnapshot)
	pr.PendingSnapshot = index
	pr.Next = index + 1
}

// maybeUpdate records that the peer's log matches up to n; false if that is old news.
func (pr *Progress) maybeUpdate(n uint64) bool {
	updated := pr.Match < n
	if updated {
		pr.Match = n
		pr.ProbeSent = false
	}
	pr.Next = max(pr.Next, n+1)
	return updated
}

// maybeDecrTo handles a rejection of the append at index rejected, with the follower's
// hint that the logs may match at most up to matchHint. False if the rejection is stale.
func (pr *Progress) maybeDecrTo(rejected, matchHint uint64) bool {
	if pr.State == StateReplicate {
		if rejected <= pr.Match {
			return false
		}
		pr.Next = pr.Match + 1
		return true
	}
	if pr.Next-1 != rejected {
		return false
	}
	pr.Next = max(min(rejected, matchHint+1), pr.Match+1)
	pr.ProbeSent = false
	return true
}

// sentEntries records an append carrying entries up to last (bytes in total).
func (pr *Progress) sentEntries(count int, last, bytes uint64) {
	switch pr.State {
	case StateReplicate:
		if count > 0 {
			pr.Next = last + 1
			pr.Inflights.add(last, bytes)
		}
	case StateProbe:
		pr.ProbeSent = true
	}
}

// isPaused reports whether the leader must not send appends now.
func (pr *Progress) isPaused() bool {
	switch pr.State {
	case StateProbe:
		return pr.ProbeSent
	case StateReplicate:
		return pr.Inflights.Full()
	}
	return true
}
