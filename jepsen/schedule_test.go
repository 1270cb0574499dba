package jepsen

import (
	"context"
	"io"
	"log/slog"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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
