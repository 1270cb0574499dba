package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/orrery/orrery/sim/harness"
)

func simSweep(c *cli.Context) error {
	s, err := parseSetup(c)
	if err != nil {
		return err
	}
	seeds, err := harness.ParseSeeds(c.String("seeds"))
	if err != nil {
		return usagef("--seeds: %v", err)
	}
	if c.Int("jobs") < 1 {
		return usagef("--jobs must be at least 1, got %d", c.Int("jobs"))
	}
	shard, err := sweepShard(c)
	if err != nil {
		return err
	}
	if shard != "" {
		k, n, _ := harness.ParseShard(shard)
		seeds = harness.Shard(seeds, k, n)
	}
	var base *harness.Report
	if path := c.String("baseline"); path != "" {
		if base, err = readBaseline(path, s.replay); err != nil {
			return err
		}
	}
	w := c.App.Writer
	onShard := ""
	if shard != "" {
		onShard = "  shard: " + shard
	}
	fmt.Fprintf(w, "sweep: %d seeds%s  workload: %s  servers: %d  clients: %d  faults: %s  jobs: %d\n",
		len(seeds), onShard, s.workload, s.sys.Servers, s.sys.Clients, s.opts.Faults, c.Int("jobs"))
	prog := newProgress(w, len(seeds), c.Bool("progress") || isTerminal(w))
	sum, err := harness.Sweep(harness.SweepConfig{
		System: s.sys, Options: s.opts, Seeds: seeds, Jobs: c.Int("jobs"), Checker: s.chk,
		Progress: prog.update, StopAfter: c.Int("stop-after"),
		DeterminismEvery: c.Uint64("check-determinism-every"),
	})
	prog.finish()
	if err != nil {
		return usagef("%v", err)
	}
	if path := c.String("json"); path != "" {
		rep := harness.NewReport(sum, s.replay, c.String("seeds"), shard)
		if err := writeReport(path, rep); err != nil {
			return cli.Exit(fmt.Sprintf("orrery sim sweep: --json: %v", err), exitUsage)
		}
	}
	printSummary(w, sum)
	for _, u := range sum.Unknown {
		fmt.Fprintf(w, "UNKNOWN seed %d: %s\n  replay: %s\n", u.Result.Seed, u.Problem, s.replayCommand(u.Result.Seed))
	}
	if len(sum.Failures) > 0 {
		return reportFailures(c, s, sum)
	}
	if len(sum.Unknown) > 0 {
		return cli.Exit("", exitInconclusive)
	}
	if base != nil && !printCosts(w, base.Costs, sum.Costs) {
		return cli.Exit("", exitRegression)
	}
	return nil
}

// readBaseline reads a --json summary to hold this sweep's costs against; one of another
// setup would compare different runs of the same seeds.
func readBaseline(path string, setup []string) (*harness.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("--baseline: %v", err)
	}
	defer f.Close()
	rep, err := harness.ReadReport(f)
	if err != nil {
		return nil, usagef("--baseline %s: %v", path, err)
	}
	if !slices.Equal(rep.Setup, setup) {
		return nil, usagef("--baseline %s was swept with %q, this sweep is %q", path, strings.Join(rep.Setup, " "), strings.Join(setup, " "))
	}
	return &rep, nil
}

// printCosts prints each measure against the baseline's and reports whether none regressed.
func printCosts(w io.Writer, base, now []harness.SeedCost) bool {
	changes, common := harness.CompareCosts(base, now)
	if common == 0 {
		fmt.Fprintln(w, "cost: no seed in common with the baseline")
		return true
	}
	fmt.Fprintf(w, "cost against the baseline, over %d common seeds:\n", common)
	ok := true
	for _, ch := range changes {
		verdict := ""
		if ch.Regression() {
			verdict, ok = "  REGRESSION", false
		}
		fmt.Fprintf(w, "  %s%s\n", ch, verdict)
	}
	return ok
}

// sweepShard is --shard, else the shard a Kubernetes Indexed Job gives this pod
// (JOB_COMPLETION_INDEX counts from 0; the count comes from JOB_COMPLETION_COUNT, which
// the Job's manifest sets), else "" for the whole seed list.
func sweepShard(c *cli.Context) (string, error) {
	if c.IsSet("shard") {
		if _, _, err := harness.ParseShard(c.String("shard")); err != nil {
			return "", usagef("--shard: %v", err)
		}
		return c.String("shard"), nil
	}
	idx, hasIdx := os.LookupEnv("JOB_COMPLETION_INDEX")
	count, hasCount := os.LookupEnv("JOB_COMPLETION_COUNT")
	switch {
	case !hasIdx && !hasCount:
		return "", nil
	case !hasIdx || !hasCount:
		return "", usagef("JOB_COMPLETION_INDEX and JOB_COMPLETION_COUNT must be set together (got index %q, count %q)", idx, count)
	}
	i, err := strconv.Atoi(strings.TrimSpace(idx))
	if err != nil || i < 0 {
		return "", usagef("JOB_COMPLETION_INDEX: want an integer >= 0, got %q", idx)
	}
	shard := fmt.Sprintf("%d/%s", i+1, strings.TrimSpace(count))
	if _, _, err := harness.ParseShard(shard); err != nil {
		return "", usagef("JOB_COMPLETION_INDEX %s and JOB_COMPLETION_COUNT %s: %v", idx, count, err)
	}
	return shard, nil
}

func writeReport(path string, rep harness.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// simMerge combines shard reports: the same summary a single sweep over their seeds
// prints, with every failing seed's replay command.
func simMerge(c *cli.Context) error {
	if c.NArg() == 0 {
		return usagef("sim merge: want the JSON summaries of the shards (sim sweep --json FILE)")
	}
	var reps []harness.Report
	for _, path := range c.Args().Slice() {
		f, err := os.Open(path)
		if err != nil {
			return usagef("sim merge: %v", err)
		}
		rep, err := harness.ReadReport(f)
		f.Close()
		if err != nil {
			return usagef("sim merge: %s: %v", path, err)
		}
		reps = append(reps, rep)
	}
	merged, missing, err := harness.MergeReports(reps)
	if err != nil {
		return usagef("sim %v", err)
	}
	if path := c.String("json"); path != "" {
		if err := writeReport(path, merged); err != nil {
			return cli.Exit(fmt.Sprintf("orrery sim merge: --json: %v", err), exitUsage)
		}
	}
	sum, err := merged.Summary()
	if err != nil {
		return usagef("sim merge: %v", err)
	}
	w := c.App.Writer
	fmt.Fprintf(w, "merge: %d reports, %d seeds of %s  setup: %s\n", len(reps), sum.Seeds, merged.Planned, strings.Join(merged.Setup, " "))
	printSummary(w, sum)
	for _, f := range sum.Failures {
		fmt.Fprintf(w, "FAIL seed %d (%s): %s\n  replay: %s\n", f.Result.Seed, f.Kind, oneLine(f.Problem), replayCommand(merged.Setup, f.Result.Seed))
	}
	for _, u := range sum.Unknown {
		fmt.Fprintf(w, "UNKNOWN seed %d: %s\n  replay: %s\n", u.Result.Seed, u.Problem, replayCommand(merged.Setup, u.Result.Seed))
	}
	if len(missing) > 0 {
		fmt.Fprintf(w, "INCOMPLETE: no report for shard %s\n", strings.Join(missing, ", "))
	}
	switch {
	case len(sum.Failures) > 0:
		return cli.Exit("", exitViolation)
	case len(sum.Unknown) > 0 || len(missing) > 0:
		return cli.Exit("", exitInconclusive)
	}
	return nil
}

func printSummary(w io.Writer, sum harness.Summary) {
	fmt.Fprintf(w, "seeds run: %d  failures: %d (safety %d, liveness %d, panic %d, nondeterministic %d)  unknown: %d\n",
		sum.Seeds, len(sum.Failures), sum.Safety, sum.Liveness, sum.Panics, sum.Diverged, len(sum.Unknown))
	if sum.Checked > 0 {
		fmt.Fprintf(w, "determinism: %d seeds run twice, %d diverged\n", sum.Checked, sum.Diverged)
	}
	evRate := float64(sum.Events) / max(sum.Wall.Seconds(), 1e-9)
	fmt.Fprintf(w, "simulated time: %v  wall time: %v  speed: %.0fx real time  events: %d (%.0f/s)\n",
		sum.SimTime.Round(time.Millisecond), sum.Wall.Round(time.Millisecond), sum.Speed(), sum.Events, evRate)
	printCoverage(w, sum)
}

// printCoverage writes the sweep's coverage report: every crash point, fault point and
// probe, declared or reached, with how often it was reached and fired.
func printCoverage(w io.Writer, sum harness.Summary) {
	cov := sum.Coverage()
	if len(cov) == 0 {
		return
	}
	fmt.Fprintln(w, "coverage (reached; fired: crashed there or fault injected):")
	width := 0
	for _, pc := range cov {
		width = max(width, len(pc.Name))
	}
	for _, pc := range cov {
		line := fmt.Sprintf("  %-11s  %-*s  %9d reached", pc.Kind, width, pc.Name, pc.Reached)
		if pc.Kind != "probe" {
			line += fmt.Sprintf("  %7d fired", pc.Fired)
		}
		switch {
		case !pc.Declared:
			line += "  (not declared)"
		case pc.Reached == 0:
			line += "  NEVER REACHED"
		}
		fmt.Fprintln(w, line)
	}
}

// reportFailures lists every failing seed with its replay command and writes evidence for
// the first few.
func reportFailures(c *cli.Context, s setup, sum harness.Summary) error {
	w := c.App.Writer
	dir, err := evidenceDir(c, "sweep")
	if err != nil {
		return cli.Exit(fmt.Sprintf("orrery: evidence: %v", err), exitViolation)
	}
	for i, f := range sum.Failures {
		seed := f.Result.Seed
		replay := s.replayCommand(seed)
		fmt.Fprintf(w, "FAIL seed %d (%s): %s\n  replay: %s\n", seed, f.Kind, oneLine(f.Problem), replay)
		if i >= c.Int("evidence") {
			continue
		}
		opts := s.opts
		opts.Seed = seed
		sub := filepath.Join(dir, fmt.Sprintf("seed-%d", seed))
		if err := harness.WriteEvidence(sub, s.sys, opts, f, replay); err != nil {
			fmt.Fprintf(w, "  evidence: %v\n", err)
			continue
		}
		fmt.Fprintf(w, "  evidence: %s\n", sub)
	}
	return cli.Exit("", exitViolation)
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " | ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress draws a bar on a terminal, or prints a plain line every tenth of the sweep.
type progress struct {
	w        io.Writer
	total    int
	tty      bool
	failures int
	last     time.Time
	nextLine int
}

func newProgress(w io.Writer, total int, tty bool) *progress {
	return &progress{w: w, total: total, tty: tty, nextLine: max(total/10, 1)}
}

func (p *progress) update(done int, o harness.Outcome) {
	if o.Failed() {
		p.failures++
		p.clear()
		fmt.Fprintf(p.w, "seed %d failed (%s)\n", o.Result.Seed, o.Kind)
	}
	switch {
	case p.tty && (time.Since(p.last) > 100*time.Millisecond || done == p.total):
		p.last = time.Now()
		const width = 30
		filled := width * done / p.total
		fmt.Fprintf(p.w, "\r[%s%s] %d/%d seeds  %d failures ", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, p.total, p.failures)
	case !p.tty && (done%p.nextLine == 0 || done == p.total):
		fmt.Fprintf(p.w, "progress: %d/%d seeds, %d failures\n", done, p.total, p.failures)
	}
}

func (p *progress) clear() {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func (p *progress) finish() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}
