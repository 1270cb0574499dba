package sim

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// reach counts, for each server, how many servers (itself included) it can send to.
func reach(n *network) map[NodeID]int {
	out := map[NodeID]int{}
	for a := NodeID(1); int(a) <= n.servers; a++ {
		for b := NodeID(1); int(b) <= n.servers; b++ {
			if a == b || !n.blocked(a, b) {
				out[a]++
			}
		}
	}
	return out
}

func TestPartitionShapes(t *testing.T) {
	prof := Profile{}
	for seed := uint64(0); seed < 20; seed++ {
		n := newNetwork(seed, &prof, 5)

		n.partition("halves", 0)
		sizes := map[int]int{}
		for _, k := range reach(n) {
			sizes[k]++
		}
		assert.Equal(t, map[int]int{2: 2, 3: 3}, sizes, "halves: a side of 2 and a side of 3")

		n.partition("one", 0)
		sizes = map[int]int{}
		for _, k := range reach(n) {
			sizes[k]++
		}
		assert.Equal(t, map[int]int{1: 1, 4: 4}, sizes, "one: a single node cut off")

		n.partition("ring", 0)
		for id, k := range reach(n) {
			assert.Equal(t, 3, k, "ring: %s sees exactly a majority", id)
		}

		n.partition("bridge", 0)
		sizes = map[int]int{}
		for _, k := range reach(n) {
			sizes[k]++
		}
		assert.Equal(t, map[int]int{3: 4, 5: 1}, sizes, "bridge: one node sees everyone")

		n.partition("one-way", 0)
		asym := false
		for a := NodeID(1); a <= 5; a++ {
			for b := NodeID(1); b <= 5; b++ {
				if n.blocked(a, b) {
					asym = asym || !n.blocked(b, a)
					assert.False(t, n.blocked(b, a), "one-way cuts only one direction")
				}
			}
		}
		assert.True(t, asym)

		n.heal()
		for _, k := range reach(n) {
			assert.Equal(t, 5, k)
		}
	}
}

func TestClientsAreNeverPartitioned(t *testing.T) {
	n := newNetwork(1, &Profile{}, 3)
	n.partition("halves", 0)
	for s := NodeID(1); s <= 3; s++ {
		assert.False(t, n.blocked(s, 4))
		assert.False(t, n.blocked(4, s))
	}
}

func TestLossyLinksOnlyDuringFaults(t *testing.T) {
	prof := Profile{DropRate: 1}
	n := newNetwork(1, &prof, 3)
	n.faulty = true
	assert.Empty(t, n.deliveries(1, 2))
	n.faulty = false
	assert.Len(t, n.deliveries(1, 2), 1)
}

func TestPartitionPutsTheTargetOnTheSmallSide(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		n := newNetwork(seed, &Profile{}, 5)
		n.partition("one", 3)
		assert.True(t, n.blocked(3, 1) && n.blocked(1, 3), "node 3 is the isolated one")
		assert.False(t, n.blocked(1, 2))
	}
}
