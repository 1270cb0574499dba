package mutate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/orrery/orrery/sim/harness"
)

// Status is what became of a mutant.
type Status string

// The statuses.
const (
	KilledBySweep Status = "sweep"        // a sweep found a violation, a panic or a hang
	KilledByCost  Status = "cost"         // every check passed, but the same seeds cost significantly more
	KilledByTest  Status = "test"         // the sweeps missed it; the package's tests failed
	Survived      Status = "nothing"      // neither caught it
	NotCompiled   Status = "not compiled" // the mutated code does not build
	Equivalent    Status = "equivalent"   // judged equivalent by a human (--equivalent); not run
)

// Package is one package to mutate and the workloads whose sweeps exercise it.
type Package struct {
	Dir       string   // relative to the module root, like "node/raft"
	Workloads []string // sweeps to run, in order; the first that kills a mutant ends it
	Mutants   []Mutant // to run (already sampled)
	Total     int      // mutants generated before sampling
}

// Config says how to run mutants.
type Config struct {
	Module    string        // the module's root directory
	Build     string        // the package built with each overlay; "./cmd/orrery" if empty
	Seeds     string        // the sweep's seed budget, like "1-300"
	Jobs      int           // mutants run at once (each builds its own binary)
	SweepJobs int           // --jobs of each sweep
	Timeout   time.Duration // per sweep and per test run; 0: 3x the unmutated run's time + 1m
	TestArgs  []string      // extra go test flags (like -short)
	Go        string        // the go command; "go" if empty
	// Equivalent maps mutant IDs (bare, or prefixed with the package's Dir and "/") to
	// the reason a human judged them equivalent.
	Equivalent map[string]string
	// Log, if set, gets a line as the baseline runs and as each mutant finishes; with
	// Jobs > 1 it is called from several goroutines at once.
	Log func(format string, args ...any)
}

// Result is the outcome of one mutant.
type Result struct {
	Mutant
	Package  string        `json:"package"`
	Status   Status        `json:"status"`
	Workload string        `json:"workload,omitempty"` // the sweep that killed it
	Seed     uint64        `json:"seed,omitempty"`     // its first failing seed (0 for a hang or crash)
	Detail   string        `json:"detail,omitempty"`   // failure kind, hang, compile error, reason
	Elapsed  time.Duration `json:"elapsed_ns"`
}

// KilledBy is the table's KILLED BY column.
func (r Result) KilledBy() string {
	switch r.Status {
	case KilledBySweep:
		if r.Seed != 0 {
			return fmt.Sprintf("sweep %s seed %d", r.Workload, r.Seed)
		}
		return fmt.Sprintf("sweep %s (%s)", r.Workload, r.Detail)
	case KilledByCost:
		return fmt.Sprintf("sweep %s cost: %s", r.Workload, r.Detail)
	case Equivalent:
		return "equivalent: " + r.Detail
	}
	return string(r.Status)
}

// Run runs every package's mutants and reports their fate. It first runs the unmutated
// code: each workload's sweep and each package's tests must pass there, or a kill would
// mean nothing; their times set the hang timeouts when Config.Timeout is 0.
//
// When ctx ends, Run stops its builds, sweeps and tests and returns ctx.Err() with the
// report of the mutants that finished (a partial result; Sampled still counts them all).
func Run(ctx context.Context, cfg Config, pkgs []Package) (Report, error) {
	cfg = cfg.withDefaults()
	work, err := os.MkdirTemp("", "orrery-mutate-")
	if err != nil {
		return Report{}, err
	}
	defer os.RemoveAll(work)
	r := &runner{cfg: cfg, work: work, sweepTimeout: map[string]time.Duration{}, testTimeout: map[string]time.Duration{},
		baseCost: map[string][]harness.SeedCost{}}
	if err := r.baseline(ctx, pkgs); err != nil {
		return Report{}, err
	}
	rep := Report{Seeds: cfg.Seeds}
	for _, p := range pkgs {
		if ctx.Err() != nil {
			break
		}
		rep.Packages = append(rep.Packages, PackageReport{Dir: p.Dir, Workloads: p.Workloads, Total: p.Total,
			Sampled: len(p.Mutants), Results: r.runPackage(ctx, p)})
	}
	return rep, ctx.Err()
}

func (c Config) withDefaults() Config {
	if c.Build == "" {
		c.Build = "./cmd/orrery"
	}
	if c.Go == "" {
		c.Go = "go"
	}
	c.Jobs = max(c.Jobs, 1)
	c.SweepJobs = max(c.SweepJobs, 1)
	if c.Log == nil {
		c.Log = func(string, ...any) {}
	}
	return c
}

type runner struct {
	cfg          Config
	work         string
	sweepTimeout map[string]time.Duration      // by workload
	testTimeout  map[string]time.Duration      // by package dir
	baseCost     map[string][]harness.SeedCost // the unmutated code's, by workload
}

func (r *runner) timeout(base time.Duration) time.Duration {
	if r.cfg.Timeout > 0 {
		return r.cfg.Timeout
	}
	return 3*base + time.Minute
}

func (r *runner) baseline(ctx context.Context, pkgs []Package) error {
	dir := filepath.Join(r.work, "baseline")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	bin, err := r.build(ctx, dir, "")
	if err != nil {
		return fmt.Errorf("mutate: build the unmutated %s: %w", r.cfg.Build, err)
	}
	for _, p := range pkgs {
		for _, w := range p.Workloads {
			if _, ok := r.sweepTimeout[w]; ok {
				continue
			}
			start := time.Now()
			res := r.sweep(ctx, bin, dir, w, 0)
			if res.killed {
				return fmt.Errorf("mutate: the unmutated code fails the %s sweep over seeds %s (%s): fix it first", w, r.cfg.Seeds, res.detail)
			}
			took := time.Since(start)
			r.sweepTimeout[w] = r.timeout(took)
			r.baseCost[w] = res.costs
			r.cfg.Log("baseline: sweep %s seeds %s passes in %v", w, r.cfg.Seeds, took.Round(time.Second))
		}
		start := time.Now()
		if failed, out := r.test(ctx, p.Dir, "", 0); failed {
			return fmt.Errorf("mutate: the unmutated tests of %s fail: %s", p.Dir, out)
		}
		took := time.Since(start)
		r.testTimeout[p.Dir] = r.timeout(took)
		r.cfg.Log("baseline: go test ./%s passes in %v", p.Dir, took.Round(time.Second))
	}
	return nil
}

// runPackage runs p's mutants on cfg.Jobs workers; results come back in p.Mutants' order.
func (r *runner) runPackage(ctx context.Context, p Package) []Result {
	out := make([]Result, len(p.Mutants))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := range r.cfg.Jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = r.mutant(ctx, p, p.Mutants[i], filepath.Join(r.work, "w"+strconv.Itoa(w)))
				res := out[i]
				r.cfg.Log("[%s %d/%d] %s  %s  %s  (%v)", p.Dir, i+1, len(p.Mutants), res.ID, res.Change, res.KilledBy(), res.Elapsed.Round(100*time.Millisecond))
			}
		}()
	}
	for i := range p.Mutants {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return slices.DeleteFunc(out, func(r Result) bool { return r.Status == "" }) // not run: interrupted
}

func (r *runner) equivalent(p Package, m Mutant) (string, bool) {
	if why, ok := r.cfg.Equivalent[p.Dir+"/"+m.ID]; ok {
		return why, true
	}
	why, ok := r.cfg.Equivalent[m.ID]
	return why, ok
}

func (r *runner) mutant(ctx context.Context, p Package, m Mutant, dir string) (res Result) {
	start := time.Now()
	res = Result{Mutant: m, Package: p.Dir}
	defer func() { res.Elapsed = time.Since(start) }()
	if why, ok := r.equivalent(p, m); ok {
		res.Status, res.Detail = Equivalent, why
		return res
	}
	overlay, err := r.writeOverlay(dir, m)
	if err != nil {
		res.Status, res.Detail = NotCompiled, err.Error()
		return res
	}
	bin, err := r.build(ctx, dir, overlay)
	if ctx.Err() != nil {
		return Result{} // interrupted: not run
	}
	if err != nil {
		_, msg, _ := strings.Cut(err.Error(), ": ")
		res.Status, res.Detail = NotCompiled, firstLine(msg)
		return res
	}
	for _, w := range p.Workloads {
		s := r.sweep(ctx, bin, dir, w, r.sweepTimeout[w])
		if ctx.Err() != nil {
			return Result{}
		}
		if s.killed {
			res.Status, res.Workload, res.Seed, res.Detail = KilledBySweep, w, s.seed, s.detail
			return res
		}
		if changes, common := harness.CompareCosts(r.baseCost[w], s.costs); common > 0 {
			if why := harness.Regressions(changes); why != "" {
				res.Status, res.Workload, res.Detail = KilledByCost, w, why
				return res
			}
		}
	}
	failed, out := r.test(ctx, p.Dir, overlay, r.testTimeout[p.Dir])
	if ctx.Err() != nil {
		return Result{}
	}
	if failed {
		res.Status, res.Detail = KilledByTest, out
		return res
	}
	res.Status = Survived
	return res
}

// writeOverlay writes m's mutated file and the go tool's -overlay file into dir.
func (r *runner) writeOverlay(dir string, m Mutant) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	src, err := os.ReadFile(m.File)
	if err != nil {
		return "", err
	}
	mutated := filepath.Join(dir, filepath.Base(m.File))
	if err := os.WriteFile(mutated, m.Apply(src), 0o644); err != nil {
		return "", err
	}
	ov, err := json.Marshal(map[string]map[string]string{"Replace": {m.File: mutated}})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "overlay.json")
	return path, os.WriteFile(path, ov, 0o644)
}

// build builds cfg.Build into dir with the overlay (none if "").
func (r *runner) build(ctx context.Context, dir, overlay string) (string, error) {
	bin := filepath.Join(dir, "orrery")
	args := []string{"build"}
	if overlay != "" {
		args = append(args, "-overlay", overlay)
	}
	// No symbol table or DWARF: linking dominates a mutant's build, and a sweep needs neither.
	args = append(args, "-ldflags=-s -w", "-o", bin, r.cfg.Build)
	cmd := exec.CommandContext(ctx, r.cfg.Go, args...)
	cmd.Dir = r.cfg.Module
	if out, err := cmd.CombinedOutput(); err != nil {
		var msg []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if !strings.HasPrefix(l, "#") {
				msg = append(msg, l)
			}
		}
		return "", fmt.Errorf("%w: %s", err, strings.Join(msg, "\n"))
	}
	return bin, nil
}

type sweepResult struct {
	killed bool
	seed   uint64
	detail string
	costs  []harness.SeedCost // of a sweep that passed
}

var failRE = regexp.MustCompile(`(?m)^FAIL seed (\d+) \(([^)]*)\)`)

// sweep runs one workload's sweep; a violation (exit 1), any other crash, or running past
// timeout (0: none) kills. Exit 3 (the checker gave up, nothing found) does not.
func (r *runner) sweep(ctx context.Context, bin, dir, workload string, timeout time.Duration) sweepResult {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	evidence := filepath.Join(dir, "evidence")
	defer os.RemoveAll(evidence)
	summary := filepath.Join(dir, "sweep-"+workload+".json")
	defer os.Remove(summary)
	cmd := exec.CommandContext(ctx, bin, "sim", "sweep", "--workload", workload, "--seeds", r.cfg.Seeds,
		"--stop-after", "1", "--evidence", "0", "--check-determinism-every", "0",
		"--jobs", strconv.Itoa(r.cfg.SweepJobs), "--out", evidence, "--json", summary)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return sweepResult{killed: true, detail: fmt.Sprintf("hang: still running after %v", timeout.Round(time.Second))}
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		costs, err := readCosts(summary)
		if err != nil {
			return sweepResult{killed: true, detail: "no summary: " + err.Error()}
		}
		return sweepResult{costs: costs}
	case errors.As(err, &ee) && ee.ExitCode() == 1:
		if m := failRE.FindStringSubmatch(out.String()); m != nil {
			seed, _ := strconv.ParseUint(m[1], 10, 64)
			return sweepResult{killed: true, seed: seed, detail: m[2]}
		}
		return sweepResult{killed: true, detail: "exit 1: " + lastLine(out.String())}
	case errors.As(err, &ee) && ee.ExitCode() == 3:
		return sweepResult{}
	case ctx.Err() != nil:
		return sweepResult{} // cancelled by the caller: not a kill
	}
	return sweepResult{killed: true, detail: "crash: " + err.Error() + ": " + lastLine(out.String())}
}

func readCosts(path string) ([]harness.SeedCost, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rep, err := harness.ReadReport(f)
	return rep.Costs, err
}

// test runs the package's tests with the overlay; failed says they failed, built or not
// (a mutant that compiles breaks no test's build unless a test relies on what it changed).
func (r *runner) test(ctx context.Context, pkgDir, overlay string, timeout time.Duration) (failed bool, detail string) {
	// -vet=off: go test's vet checks would flag some mutants (a || b on two != tests is
	// "suspect or") that the tests themselves do not catch.
	args := []string{"test", "-count=1", "-vet=off"}
	if overlay != "" {
		args = append(args, "-overlay", overlay)
	}
	if timeout > 0 {
		args = append(args, "-timeout", timeout.String())
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout+time.Minute)
		defer cancel()
	}
	args = append(args, r.cfg.TestArgs...)
	args = append(args, "./"+filepath.ToSlash(pkgDir)+"/")
	cmd := exec.CommandContext(ctx, r.cfg.Go, args...)
	cmd.Dir = r.cfg.Module
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if err == nil {
		return false, ""
	}
	if m := regexp.MustCompile(`(?m)^--- FAIL: (\S+)`).FindSubmatch(out); m != nil {
		return true, string(m[1])
	}
	if bytes.Contains(out, []byte("panic: test timed out")) {
		return true, "hang"
	}
	return true, lastLine(string(out))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}
