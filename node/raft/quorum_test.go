package raft

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// naiveCommitted is the reference: the highest index that at least a majority of voters
// have matched, found by trying every candidate value.
func naiveCommitted(voters []uint64, match map[uint64]uint64) uint64 {
	var best uint64
	for _, cand := range match {
		count := 0
		for _, id := range voters {
			if match[id] >= cand {
				count++
			}
		}
		if count >= len(voters)/2+1 && cand > best {
			best = cand
		}
	}
	return best
}

func TestCommittedIndexMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		n := 1 + rng.IntN(7)
		voters := make([]uint64, n)
		match := map[uint64]uint64{}
		for i := range voters {
			voters[i] = uint64(i + 1)
			if rng.IntN(5) > 0 { // sometimes unknown (0)
				match[voters[i]] = uint64(rng.IntN(10))
			}
		}
		got := committedIndex(voters, func(id uint64) uint64 { return match[id] })
		assert.Equal(t, naiveCommitted(voters, match), got, "voters %v match %v", voters, match)
	}
	assert.Zero(t, committedIndex(nil, func(uint64) uint64 { return 7 }))
}

func TestVoteResult(t *testing.T) {
	voters := []uint64{1, 2, 3, 4, 5}
	for _, tc := range []struct {
		votes map[uint64]bool
		want  VoteResult
	}{
		{map[uint64]bool{}, VotePending},
		{map[uint64]bool{1: true, 2: true}, VotePending},
		{map[uint64]bool{1: true, 2: true, 3: true}, VoteWon},
		{map[uint64]bool{1: false, 2: false}, VotePending},
		{map[uint64]bool{1: false, 2: false, 3: false}, VoteLost},
		{map[uint64]bool{1: true, 2: true, 6: true, 7: true}, VotePending}, // non-voters do not count
	} {
		assert.Equal(t, tc.want, voteResult(voters, tc.votes), "%v", tc.votes)
	}
	assert.Equal(t, VoteWon, voteResult([]uint64{1}, map[uint64]bool{1: true}))
	assert.Equal(t, VoteLost, voteResult([]uint64{1, 2}, map[uint64]bool{2: false}))
}

func TestInflights(t *testing.T) {
	in := newInflights(3, 100)
	in.add(1, 10)
	in.add(2, 10)
	assert.False(t, in.Full())
	in.add(5, 90)
	assert.True(t, in.Full())
	in.freeLE(2)
	assert.Equal(t, 1, in.Count())
	assert.False(t, in.Full(), "90 bytes < 100")
	in.add(6, 10)
	assert.True(t, in.Full(), "bytes limit")
	in.freeFirst()
	assert.Equal(t, 1, in.Count())
	in.freeLE(100)
	assert.Zero(t, in.Count())
}

func TestProgressBacktracking(t *testing.T) {
	pr := &Progress{Match: 3, Next: 10, Inflights: newInflights(4, 0)}
	assert.False(t, pr.maybeDecrTo(5, 4), "stale rejection (not of Next-1)")
	assert.True(t, pr.maybeDecrTo(9, 4))
	assert.Equal(t, uint64(5), pr.Next, "jumps to the hint + 1")
	pr.becomeReplicate()
	assert.False(t, pr.maybeDecrTo(2, 0), "at or below Match: stale")
	assert.True(t, pr.maybeUpdate(6))
	assert.Equal(t, uint64(7), pr.Next)
	pr.sentEntries(2, 8, 20)
	assert.Equal(t, uint64(9), pr.Next)
	assert.Equal(t, 1, pr.Inflights.Count())
	pr.becomeSnapshot(20)
	assert.True(t, pr.isPaused())
	pr.Match = 20
	pr.becomeProbe()
	assert.Equal(t, uint64(21), pr.Next)
}
