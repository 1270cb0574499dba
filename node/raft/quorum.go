package raft

import "slices"

// majority is the number of votes that make a quorum of n voters.
func majority(n int) int { return n/2 + 1 }

// committedIndex returns the highest index that a majority of voters have matched, given
// each voter's match index (0 when unknown). An empty voter set commits nothing.
func committedIndex(voters []uint64, match func(id uint64) uint64) uint64 {
	if len(voters) == 0 {
		return 0
	}
	idx := make([]uint64, len(voters))
	for i, id := range voters {
		idx[i] = match(id)
	}
	slices.Sort(idx)
	// The majority-th largest value: that many voters are at or above it.
	return idx[len(idx)-majority(len(idx))]
}

// VoteResult is the outcome of an election so far.
type VoteResult uint8

// The vote results.
const (
	VotePending VoteResult = iota
	VoteLost
	VoteWon
)

// voteResult tallies votes (true = granted) cast by the voters.
func voteResult(voters []uint64, votes map[uint64]bool) VoteResult {
	granted, rejected := 0, 0
	for _, id := range voters {
		v, ok := votes[id]
		switch {
		case !ok:
		case v:
			granted++
		default:
			rejected++
		}
	}
	q := majority(len(voters))
	switch {
	case granted >= q:
		return VoteWon
	case rejected > len(voters)-q:
		return VoteLost
	}
	return VotePending
}
