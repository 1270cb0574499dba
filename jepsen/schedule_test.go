package jepsen

import (
	"context"
	"io"
	"log/slog"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// named is a nemesis that only has a name.
type named string

func (n named) Name() string                                               { return string(n) }
func (n named) Start(context.Context, Cluster, *rand.Rand) (string, error) { return "", nil }
func (n named) Stop(context.Context, Cluster) error                        { return nil }

// The schedule applies every kind within the run when kinds outnumber periods, never
// two of one family at once, and spreads the partitions over the periods.
func TestScheduleCoversEveryKind(t *testing.T) {
	names := []string{"partition-halves", "partition-leader", "partition-ring", "partition-bridge", "partition-oneway",
		"kill", "pause", "clock", "loss", "disk", "fsync", "delay", "duplicate", "reorder"}
	for _, tc := range []struct {
		total, interval time.Duration
		periods         int
	}{
		{120 * time.Second, 10 * time.Second, 6},
		{30 * time.Second, 3 * time.Second, 5},
		{20 * time.Second, 4 * time.Second, 2},
	} {
		var ns []Nemesis
		for _, n := range names {
			ns = append(ns, named(n))
		}
		for seed := int64(1); seed <= 50; seed++ {
			s := &schedule{nemeses: ns, interval: tc.interval, total: tc.total, rng: rand.New(rand.NewSource(seed)),
				log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			assert.Equal(t, tc.periods, s.periods())
			seen := map[string]bool{}
			left := s.periods()
			for range s.periods() {
				fams := map[string]bool{}
				for _, n := range s.next(left) {
					f := family(n.Name())
					assert.False(t, fams[f], "two of family %s at once (seed %d)", f, seed)
					fams[f] = true
					seen[n.Name()] = true
				}
				left = max(left-1, 1)
			}
			if tc.periods >= 5 { // five partition kinds need five periods
				assert.Len(t, seen, len(names), "seed %d, %v/%v: applied %v", seed, tc.total, tc.interval, seen)
			}
		}
	}
}

// Jepsen users name fault families: partition is every partition kind, packet every
// link fault; a family and one of its members given together count once.
func TestNemesisFamilies(t *testing.T) {
	names := func(args ...string) []string {
		nems, err := Nemeses(args...)
		require.NoError(t, err)
		var out []string
		for _, n := range nems {
			out = append(out, n.Name())
		}
		return out
	}
	assert.Equal(t, []string{"partition-halves", "partition-leader", "partition-ring", "partition-bridge", "partition-oneway", "kill"},
		names("partition-halves,partition", "kill"))
	assert.Equal(t, []string{"pause", "clock", "loss", "delay", "duplicate", "reorder"}, names("pause,clock,packet"))
	for _, group := range nemesisGroups {
		for _, n := range group {
			assert.Contains(t, NemesisNames(), n)
		}
	}
	_, err := Nemeses("partition,meteor")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown nemesis "meteor" (known: all, partition, packet,`)
}

// Faults heal in the reverse of their start, except the member nemesis, which heals last:
// its re-add needs the quorum the others may deny.
func TestHealOrder(t *testing.T) {
	ws := []FaultWindow{{Nemesis: "clock"}, {Nemesis: "partition-ring"}, {Nemesis: "member"}, {Nemesis: "kill"}}
	assert.Equal(t, []int{1, 0}, healOrder(ws, []int{0, 1}))
	assert.Equal(t, []int{1, 0, 2}, healOrder(ws, []int{0, 1, 2}))
	assert.Equal(t, []int{3, 1, 2}, healOrder(ws, []int{2, 1, 3}))
}
