package simtest

import (
	"cmp"
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/orrery/orrery/sim"
	"github.com/orrery/orrery/sim/harness"
)

var (
	seedFlag  = flag.Uint64("orrery.seed", 0, "run only this seed (replay a failure)")
	traceFlag = flag.Bool("orrery.trace", false, "with -orrery.seed, log every event of the run")
)

// Config says which seeds to run and how.
type Config struct {
	// First and Seeds select seeds First..First+Seeds-1; defaults 1 and 100.
	First uint64
	Seeds int
	// Faults is "all" (swarm, the default), "none", or a comma-separated list.
	Faults string
	// Options are the base run options (Ops, timeouts); Seed and Faults are set per run.
	Options sim.Options
	// Jobs is the number of workers; 0 means one per CPU.
	Jobs int
	// Checker bounds the linearizability check.
	Checker harness.Checker
	// MaxFailures stops the sweep after this many failing seeds; 0 means 1.
	MaxFailures int
}

// Sweep runs sys over the configured seeds and fails t once per failing seed, naming the
// seed, the problem, the replay command and a directory holding the evidence (history,
// porcupine visualisation, trace). It returns the summary for further assertions.
func Sweep(t testing.TB, sys sim.System, cfg Config) harness.Summary {
	t.Helper()
	faults, err := sim.ParseFaults(orDefault(cfg.Faults, "all"))
	if err != nil {
		t.Fatalf("simtest: %v", err)
	}
	opts := cfg.Options
	opts.Faults = faults
	seeds := cfg.seeds()
	if *seedFlag != 0 {
		seeds = []uint64{*seedFlag}
	}
	sc := harness.SweepConfig{
		System: sys, Options: opts, Seeds: seeds, Checker: cfg.Checker,
		Jobs: cfg.Jobs, StopAfter: max(cfg.MaxFailures, 1),
	}
	if sc.Jobs == 0 {
		sc.Jobs = runtime.GOMAXPROCS(0)
	}
	if *seedFlag != 0 && *traceFlag {
		sc.Options.Trace = func(line string) { t.Log(line) }
		sc.Jobs = 1
	}
	sum, err := harness.Sweep(sc)
	if err != nil {
		t.Fatalf("simtest: %v", err)
	}
	// Parallel workers may finish a few more failing seeds after the limit is reached;
	// report the first ones by seed, so the outcome does not depend on scheduling.
	fails := slices.Clone(sum.Failures)
	slices.SortFunc(fails, func(a, b harness.Outcome) int { return cmp.Compare(a.Result.Seed, b.Result.Seed) })
	limit := max(cfg.MaxFailures, 1)
	for i, f := range fails {
		if i == limit {
			t.Logf("simtest: %d more failing seeds ran before the sweep stopped; not reported", len(fails)-limit)
			break
		}
		report(t, sys, opts, f)
	}
	return sum
}

func (c Config) seeds() []uint64 {
	first, n := c.First, c.Seeds
	if first == 0 {
		first = 1
	}
	if n == 0 {
		n = 100
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = first + uint64(i)
	}
	return out
}

// report fails t for one seed with everything needed to reproduce it.
func report(t testing.TB, sys sim.System, opts sim.Options, f harness.Outcome) {
	t.Helper()
	seed := f.Result.Seed
	replay := ReplayCommand(t.Name(), seed)
	opts.Seed = seed
	evidence := "(not written)"
	if dir, err := os.MkdirTemp("", "orrery-simtest-"); err == nil {
		if err := harness.WriteEvidence(dir, sys, opts, f, replay); err == nil {
			evidence = dir
		} else {
			evidence = err.Error()
		}
	}
	t.Errorf("seed %d failed (%s): %s\n  faults: %s\n  replay: %s\n  evidence: %s",
		seed, f.Kind, f.Problem, f.Result.Profile, replay, evidence)
}

// ReplayCommand is the go test invocation that re-runs one seed of the named test.
func ReplayCommand(testName string, seed uint64) string {
	parts := strings.Split(testName, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return fmt.Sprintf("go test -run '%s' -orrery.seed=%d", strings.Join(parts, "/"), seed)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
