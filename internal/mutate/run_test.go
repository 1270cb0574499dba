package mutate

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The runner on the test module, whose cmd/orrery is a fake sweep that checks calc.Clamp on
// workload w2 (failing seed 3) and nothing on w1, and reports costs from calc.Positive: one
// mutant is killed by the sweep, one by a cost rise on every seed, one by the package's test
// only, one survives, one does not compile and one is excluded as equivalent.
func TestRunTinyModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary per mutant")
	}
	ms := calcMutants(t)
	pick := map[string]bool{
		"calc.go:11:7:negate-cmp":  true, // Clamp: v >= lo
		"calc.go:24:9:arith":       true, // Sum: total -= x
		"calc.go:30:38:logical":    true, // Both: a || b
		"calc.go:36:3:remove-stmt": true, // Last: x unused
		"calc.go:46:11:arith":      true, // Scale: v + by
		"calc.go:78:8:boundary":    true, // Positive: x >= 0 counts one more on every seed
	}
	var sel []Mutant
	for _, m := range ms {
		if pick[m.ID] {
			sel = append(sel, m)
		}
	}
	require.Len(t, sel, len(pick))
	mod, err := filepath.Abs("testdata/tiny")
	require.NoError(t, err)
	var (
		mu     sync.Mutex
		logged bytes.Buffer
	)
	rep, err := Run(context.Background(), Config{
		Module: mod, Seeds: "1-10", Jobs: 2,
		Equivalent: map[string]string{"calc/calc.go:46:11:arith": "pretend: nothing calls Scale"},
		Log: func(f string, a ...any) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(&logged, f+"\n", a...)
		},
	}, []Package{{Dir: "calc", Workloads: []string{"w1", "w2"}, Mutants: sel, Total: len(ms)}})
	require.NoError(t, err)
	require.Len(t, rep.Packages, 1)
	got := map[string]Result{}
	for _, r := range rep.Packages[0].Results {
		got[r.ID] = r
	}
	assert.Equal(t, "sweep w2 seed 3", got["calc.go:11:7:negate-cmp"].KilledBy())
	assert.Equal(t, "safety", got["calc.go:11:7:negate-cmp"].Detail)
	assert.Equal(t, KilledByTest, got["calc.go:24:9:arith"].Status)
	assert.Equal(t, "TestSum", got["calc.go:24:9:arith"].Detail)
	assert.Equal(t, Survived, got["calc.go:30:38:logical"].Status)
	assert.Equal(t, NotCompiled, got["calc.go:36:3:remove-stmt"].Status)
	assert.Contains(t, got["calc.go:36:3:remove-stmt"].Detail, "declared and not used")
	assert.Equal(t, "equivalent: pretend: nothing calls Scale", got["calc.go:46:11:arith"].KilledBy())
	assert.Equal(t, KilledByCost, got["calc.go:78:8:boundary"].Status)
	assert.Regexp(t, `^sweep w1 cost: messages \+\d+\.\d% \(20 of 20 seeds up, 0 down, p=1e-06\)$`, got["calc.go:78:8:boundary"].KilledBy())

	s := rep.Packages[0].Score()
	assert.Equal(t, Score{Run: 6, NotCompiled: 1, Equivalent: 1, Sweep: 2, Cost: 1, Test: 1, Survived: 1}, s)
	assert.Equal(t, 4, s.Scored())
	var table bytes.Buffer
	require.NoError(t, rep.WriteTable(&table))
	assert.Contains(t, table.String(), "MUTANT")
	assert.Regexp(t, `calc\.go:11:7:negate-cmp\s+< -> >=\s+sweep w2 seed 3\n`, table.String())
	assert.Regexp(t, `calc\.go:30:38:logical\s+&& -> \|\|\s+nothing\n`, table.String())
	assert.Contains(t, table.String(), "score calc: killed by sweeps 2/4 (50%; 1 of them by cost), by sweeps or tests 3/4 (75%)  [6 of 39 mutants run, 1 not compiled, 1 equivalent, 1 survived]")
	assert.Contains(t, logged.String(), "baseline: sweep")
}

// Cancelling the context stops the run: Run reports the mutants that finished, leaves out
// the one it interrupted (it must not count as killed or not compiled), and says so.
func TestRunInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary per mutant")
	}
	ms := calcMutants(t)[:4] // all in Clamp: the fake sweep kills each one
	mod, err := filepath.Abs("testdata/tiny")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	rep, err := Run(ctx, Config{
		Module: mod, Seeds: "1-10", Jobs: 1,
		Log: func(f string, a ...any) {
			mu.Lock()
			defer mu.Unlock()
			if strings.HasPrefix(f, "[") {
				cancel() // after the first mutant
			}
		},
	}, []Package{{Dir: "calc", Workloads: []string{"w2"}, Mutants: ms, Total: 30}})
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, rep.Packages, 1)
	p := rep.Packages[0]
	require.NotEmpty(t, p.Results)
	assert.Less(t, len(p.Results), len(ms))
	for _, r := range p.Results {
		assert.Equal(t, KilledBySweep, r.Status, r.ID)
	}
	assert.Contains(t, p.ScoreLine(), fmt.Sprintf("[%d run of 4 sampled from 30 mutants (interrupted)", len(p.Results)))
}
