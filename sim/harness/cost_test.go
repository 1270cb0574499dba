package harness

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/sim"
)

func costs(n int, f func(seed int) sim.Cost) []SeedCost {
	var out []SeedCost
	for s := 1; s <= n; s++ {
		out = append(out, SeedCost{Seed: uint64(s), Cost: f(s)})
	}
	return out
}

func change(t *testing.T, changes []CostChange, metric string) CostChange {
	t.Helper()
	for _, c := range changes {
		if c.Metric == metric {
			return c
		}
	}
	t.Fatalf("no %s in %v", metric, changes)
	return CostChange{}
}

// The same trace on every seed is no change; a rise on most changed seeds is a regression
// once it passes 2%; a rise as often as a fall is not, however large its total.
func TestCompareCosts(t *testing.T) {
	base := costs(100, func(s int) sim.Cost { return sim.Cost{Messages: 1000 + s, Syncs: 100, Written: 5000, Stored: 100} })

	changes, common := CompareCosts(base, base)
	assert.Equal(t, 100, common)
	for _, c := range changes {
		assert.False(t, c.Regression(), c.String())
		assert.Equal(t, 100, c.Tied)
		assert.Equal(t, 1.0, c.P)
	}
	assert.Empty(t, Regressions(changes))

	more := costs(100, func(s int) sim.Cost {
		c := sim.Cost{Messages: 1000 + s, Syncs: 100, Written: 5000, Stored: 100}
		if s%10 != 0 {
			c.Messages += 50 // 90 seeds up by about 5%
		}
		if s%2 == 0 {
			c.Syncs += 30 // half the seeds up 30%, half down: no regression
		} else {
			c.Syncs -= 30
		}
		c.Written++ // every seed up, by 0.02%: real but below the 2% worth acting on
		return c
	})
	changes, _ = CompareCosts(base, more)
	msgs := change(t, changes, "messages")
	assert.Equal(t, 90, msgs.Up)
	assert.Equal(t, 10, msgs.Tied)
	assert.Less(t, msgs.P, 1e-20)
	assert.True(t, msgs.Regression())
	assert.False(t, change(t, changes, "fsyncs").Regression())
	written := change(t, changes, "written")
	assert.Equal(t, 100, written.Up)
	assert.False(t, written.Regression(), "a 0.02%% rise")
	assert.Regexp(t, `^messages \+4\.\d% \(90 of 100 seeds up, 0 down, p=\de-\d+\)$`, Regressions(changes))

	// Only common seeds count: a baseline of seeds 1-100 against a sweep of 51-150.
	shifted := costs(150, func(s int) sim.Cost { return sim.Cost{Messages: 2000} })[50:]
	changes, common = CompareCosts(base, shifted)
	assert.Equal(t, 50, common)
	assert.Equal(t, 50, change(t, changes, "messages").Up)
	_, common = CompareCosts(base, nil)
	assert.Zero(t, common)
}

func TestSignTest(t *testing.T) {
	assert.Equal(t, 1.0, signTest(0, 10))
	assert.InDelta(t, 1.0/1024, signTest(10, 10), 1e-12)
	assert.InDelta(t, 11.0/1024, signTest(9, 10), 1e-12)
	assert.InDelta(t, 0.5, signTest(1, 1), 1e-12)
	assert.Greater(t, signTest(300, 300), 0.0, "no underflow to 0 at a few hundred seeds")
	assert.Less(t, signTest(300, 300), 1e-80)
}

// A sweep's costs travel in its report and come back whole, in seed order, through a merge
// of shards.
func TestCostsInReports(t *testing.T) {
	all := costs(6, func(s int) sim.Cost { return sim.Cost{Messages: s, Time: 7} })
	odd, even := Summary{Seeds: 3, Ran: []uint64{1, 3, 5}}, Summary{Seeds: 3, Ran: []uint64{2, 4, 6}}
	for _, c := range all {
		if c.Seed%2 == 1 {
			odd.Costs = append(odd.Costs, c)
		} else {
			even.Costs = append(even.Costs, c)
		}
	}
	m, missing, err := MergeReports([]Report{NewReport(even, nil, "1-6", "2/2"), NewReport(odd, nil, "1-6", "1/2")})
	require.NoError(t, err)
	assert.Empty(t, missing)
	assert.Equal(t, all, m.Costs)
	sum, err := m.Summary()
	require.NoError(t, err)
	assert.Equal(t, all, sum.Costs)
}
