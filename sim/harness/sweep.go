package harness

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/orrery/orrery/sim"
)

// SweepConfig describes a sweep: the same system and options over a range of seeds.
type SweepConfig struct {
	System  sim.System
	Options sim.Options // Seed is set per run
	Seeds   []uint64
	Jobs    int // workers; < 1 means 1
	Checker Checker
	// Progress, when set, is called after each seed from the collecting goroutine.
	Progress func(done int, o Outcome)
	// StopAfter stops handing out new seeds once this many have failed (0 = never).
	StopAfter int
	// DeterminismEvery runs every seed divisible by it twice and fails it when the two
	// runs differ (see CheckDeterminism); 0 never does.
	DeterminismEvery uint64
}

// Summary is what a sweep found.
type Summary struct {
	Seeds    int
	Ran      []uint64  // the seeds that ran, sorted
	Failures []Outcome // safety and liveness failures, in seed order
	Unknown  []Outcome // checker timeouts
	Safety   int
	Liveness int
	Panics   int
	// Checked counts the seeds run twice for determinism; Diverged those that differed.
	Checked, Diverged int
	// CrashPoints counts, over all seeds, how often each crash point was reached: a
	// point never reached is a path the sweep never tested.
	CrashPoints map[string]int
	// FaultPoints and Probes count the fault points and probes reached; Fired counts the
	// crash points that crashed their process and the fault points that fired.
	FaultPoints, Probes, Fired map[string]int
	// Declared are the points the system's components declare (sim.System.Points).
	Declared sim.Points
	SimTime  time.Duration // total simulated time over all seeds
	Events   int
	Wall     time.Duration
	// Costs are what each seed's run spent, in seed order (none for a run that panicked):
	// CompareCosts holds them against another sweep's of the same seeds.
	Costs []SeedCost
}

// Speed is simulated seconds per wall second over the whole sweep.
func (s Summary) Speed() float64 {
	if s.Wall <= 0 {
		return 0
	}
	return s.SimTime.Seconds() / s.Wall.Seconds()
}

// Sweep runs every seed on Jobs workers and collects the outcomes. Outcomes are reported
// in completion order (which depends on scheduling), but the summary lists failures in seed
// order, so a sweep's result does not depend on the number of workers.
func Sweep(cfg SweepConfig) (Summary, error) {
	start := time.Now()
	jobs := max(cfg.Jobs, 1)
	seeds := make(chan uint64)
	type result struct {
		o   Outcome
		err error
	}
	results := make(chan result)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seed := range seeds {
				opts := cfg.Options
				opts.Seed = seed
				o, err := runSweepSeed(cfg, opts)
				results <- result{o, err}
			}
		}()
	}
	go func() {
		defer close(seeds)
		for _, s := range cfg.Seeds {
			select {
			case seeds <- s:
			case <-stop:
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

	sum := Summary{Declared: cfg.System.Points}
	var firstErr error
	stopped := false
	for r := range results {
		if r.err != nil {
			if firstErr == nil {
				firstErr = r.err
			}
			if !stopped {
				close(stop)
				stopped = true
			}
			continue
		}
		sum.add(r.o)
		if cfg.Progress != nil {
			cfg.Progress(sum.Seeds, r.o)
		}
		if cfg.StopAfter > 0 && len(sum.Failures) >= cfg.StopAfter && !stopped {
			close(stop)
			stopped = true
		}
	}
	sum.sort()
	sum.Wall = time.Since(start)
	if firstErr != nil {
		return sum, fmt.Errorf("sweep: %w", firstErr)
	}
	return sum, nil
}

// runSweepSeed runs one seed, twice when the sweep checks its determinism.
func runSweepSeed(cfg SweepConfig, opts sim.Options) (Outcome, error) {
	if cfg.DeterminismEvery == 0 || opts.Seed%cfg.DeterminismEvery != 0 {
		return RunSeed(cfg.System, opts, cfg.Checker)
	}
	o, div, err := CheckDeterminism(cfg.System, opts, cfg.Checker)
	o.determinism = true
	if err == nil && div != nil {
		o.Kind, o.Problem = Nondeterministic, div.String()
	}
	return o, err
}

func (s *Summary) add(o Outcome) {
	s.Seeds++
	s.Ran = append(s.Ran, o.Result.Seed)
	if o.determinism {
		s.Checked++
	}
	s.CrashPoints = addCounts(s.CrashPoints, o.Result.CrashPoints)
	s.FaultPoints = addCounts(s.FaultPoints, o.Result.FaultPoints)
	s.Probes = addCounts(s.Probes, o.Result.Probes)
	s.Fired = addCounts(s.Fired, o.Result.Fired)
	s.SimTime += o.Result.SimTime
	s.Events += o.Result.Events
	if o.Kind != Panic {
		s.Costs = append(s.Costs, SeedCost{Seed: o.Result.Seed, Cost: o.Result.Cost})
	}
	switch o.Kind {
	case Safety:
		s.Safety++
		s.Failures = append(s.Failures, o)
	case Liveness:
		s.Liveness++
		s.Failures = append(s.Failures, o)
	case Panic:
		s.Panics++
		s.Failures = append(s.Failures, o)
	case Nondeterministic:
		s.Diverged++
		s.Failures = append(s.Failures, o)
	case Unknown:
		s.Unknown = append(s.Unknown, o)
	}
}

func (s *Summary) sort() {
	bySeed := func(a, b Outcome) int { return cmpSeed(a.Result.Seed, b.Result.Seed) }
	slicesSortFunc(s.Failures, bySeed)
	slicesSortFunc(s.Unknown, bySeed)
	slices.Sort(s.Ran)
	sortCosts(s.Costs)
}

func addCounts(to, from map[string]int) map[string]int {
	if to == nil {
		to = map[string]int{}
	}
	//det:unordered summing counts
	for name, n := range from {
		to[name] += n
	}
	return to
}

// PointCount is one line of a coverage report.
type PointCount struct {
	Kind     string // "crash point", "fault point" or "probe"
	Name     string
	Reached  int
	Fired    int  // crashed there (crash points) or fired (fault points)
	Declared bool // listed in the system's Points
}

// Coverage lists every crash point, fault point and probe the system declares or the sweep
// reached, by kind and name, with its counts: a declared point never reached is a path the
// sweep never tested.
func (s Summary) Coverage() []PointCount {
	var out []PointCount
	for _, k := range []struct {
		kind     string
		declared []string
		reached  map[string]int
	}{
		{"crash point", s.Declared.Crash, s.CrashPoints},
		{"fault point", s.Declared.Fault, s.FaultPoints},
		{"probe", s.Declared.Probes, s.Probes},
	} {
		names := slices.Clone(k.declared)
		for name := range k.reached {
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		for _, name := range names {
			pc := PointCount{Kind: k.kind, Name: name, Reached: k.reached[name], Declared: slices.Contains(k.declared, name)}
			if k.kind != "probe" {
				pc.Fired = s.Fired[name]
			}
			out = append(out, pc)
		}
	}
	return out
}
