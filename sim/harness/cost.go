package harness

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/orrery/orrery/sim"
)

// SeedCost is what one seed's run spent.
type SeedCost struct {
	Seed uint64 `json:"seed"`
	sim.Cost
}

func sortCosts(cs []SeedCost) {
	slices.SortFunc(cs, func(a, b SeedCost) int { return cmpSeed(a.Seed, b.Seed) })
}

// CostChange compares one measure of two sweeps over the seeds both ran.
type CostChange struct {
	Metric    string
	Base, Now int64 // summed over the common seeds
	Up, Down  int   // seeds where it rose, fell
	Tied      int   // seeds where it stayed
	// P is the one-sided sign test's p-value for "it rose": the chance of at least Up
	// rises among Up+Down seeds that changed, were a rise and a fall equally likely.
	P float64
}

// A rise is a regression when it is both unlikely to be chance and worth a look: on the
// same seeds, code that behaves the same runs the same trace (every seed a tie), code that
// behaves differently but no worse moves each seed's cost up or down about as often, and
// code that does more work per step moves most changed seeds up. One in a thousand keeps
// false alarms rare over the five measures of a few workloads; 2% ignores rises that no
// one would act on.
const (
	regressionP    = 1e-3
	regressionRise = 0.02
)

// Regression reports whether the measure rose beyond chance and by at least 2%.
func (c CostChange) Regression() bool {
	return c.P < regressionP && float64(c.Now) >= float64(c.Base)*(1+regressionRise)
}

// Ratio is the new total over the base total.
func (c CostChange) Ratio() float64 {
	if c.Base == 0 {
		if c.Now == 0 {
			return 1
		}
		return math.Inf(1)
	}
	return float64(c.Now) / float64(c.Base)
}

func (c CostChange) String() string {
	return fmt.Sprintf("%s %+.1f%% (%d of %d seeds up, %d down, p=%.1g)",
		c.Metric, 100*(c.Ratio()-1), c.Up, c.Up+c.Down+c.Tied, c.Down, c.P)
}

// CompareCosts holds now's per-seed costs against base's, measure by measure (virtual time,
// messages, fsyncs, bytes written, bytes stored at the end), over the seeds both list.
// Common is how many seeds that is: 0 means the sweeps share no seed and nothing compares.
func CompareCosts(base, now []SeedCost) (changes []CostChange, common int) {
	byseed := make(map[uint64]sim.Cost, len(base))
	for _, c := range base {
		byseed[c.Seed] = c.Cost
	}
	type pair struct{ a, b sim.Cost }
	var pairs []pair
	for _, c := range now {
		if b, ok := byseed[c.Seed]; ok {
			pairs = append(pairs, pair{b, c.Cost})
		}
	}
	for _, m := range costMetrics {
		ch := CostChange{Metric: m.name}
		for _, p := range pairs {
			a, b := m.of(p.a), m.of(p.b)
			ch.Base += a
			ch.Now += b
			switch {
			case b > a:
				ch.Up++
			case b < a:
				ch.Down++
			default:
				ch.Tied++
			}
		}
		ch.P = signTest(ch.Up, ch.Up+ch.Down)
		changes = append(changes, ch)
	}
	return changes, len(pairs)
}

var costMetrics = []struct {
	name string
	of   func(sim.Cost) int64
}{
	{"time", func(c sim.Cost) int64 { return int64(c.Time) }},
	{"messages", func(c sim.Cost) int64 { return int64(c.Messages) }},
	{"fsyncs", func(c sim.Cost) int64 { return int64(c.Syncs) }},
	{"written", func(c sim.Cost) int64 { return int64(c.Written) }},
	{"stored", func(c sim.Cost) int64 { return int64(c.Stored) }},
}

// Regressions lists the changes that are regressions, as one line ("" for none).
func Regressions(changes []CostChange) string {
	var out []string
	for _, c := range changes {
		if c.Regression() {
			out = append(out, c.String())
		}
	}
	return strings.Join(out, "; ")
}

// signTest is P(X >= k) for X ~ Binomial(n, 1/2), summed in log space so that a few
// hundred seeds neither overflow nor underflow to a false 0 too early.
func signTest(k, n int) float64 {
	if k <= 0 {
		return 1
	}
	p := 0.0
	for i := k; i <= n; i++ {
		lg := lchoose(n, i) - float64(n)*math.Ln2
		p += math.Exp(lg)
	}
	return min(p, 1)
}

func lchoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}
