package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/orrery/orrery/internal/mutate"
	"github.com/orrery/orrery/sim/harness"
	"github.com/orrery/orrery/sim/workload"
)

var defaultMutatePackages = []string{"./node/raft", "./node/rsm", "./node/kv", "./node/kvserver"}

func mutateCommand() *cli.Command {
	return &cli.Command{
		Name:  "mutate",
		Usage: "mutation testing: how many small bugs in a package do the simulator's sweeps (and its tests) catch",
		UsageText: "orrery mutate [--package ./node/raft ...] [--seeds 1-300] [--sample N --sample-seed S] [--jobs J]\n" +
			"   [--workloads node/raft=raftlog,all ...] [--equivalent FILE] [--timeout D] [--json OUT] [--list]",
		Description: "Run from the module's root. Each mutant is built into its own orrery binary with go build -overlay\n" +
			"(the source tree is never modified) and swept over the package's workloads; mutants no sweep\n" +
			"kills are run against the package's tests. Default workloads: " + defaultWorkloadsText() + ".",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "package", Usage: "package directory to mutate (repeatable; default " + strings.Join(defaultMutatePackages, ", ") + ")"},
			&cli.StringFlag{Name: "seeds", Value: "1-300", Usage: "seed budget of each sweep"},
			&cli.IntFlag{Name: "sample", Usage: "run only this many mutants per package, a deterministic sample (0 = all)"},
			&cli.Uint64Flag{Name: "sample-seed", Value: 1, Usage: "seed of the sample"},
			&cli.IntFlag{Name: "jobs", Value: 1, Usage: "mutants built and run at once"},
			&cli.IntFlag{Name: "sweep-jobs", Value: 2, Usage: "--jobs of each sweep"},
			&cli.DurationFlag{Name: "timeout", Usage: "wall time a sweep or test run of one mutant may take before it counts as a hang (0 = 3x the unmutated run + 1m)"},
			&cli.StringSliceFlag{Name: "workloads", Usage: "PKG=W1,W2: sweeps for a package, replacing the default (repeatable)"},
			&cli.StringFlag{Name: "equivalent", Usage: "file of mutant IDs judged equivalent, one per line with the reason; excluded from the score"},
			&cli.StringFlag{Name: "test-flags", Usage: "extra go test flags for the package tests, space-separated (like -short)"},
			&cli.StringFlag{Name: "json", Usage: "also write the results as JSON to this file"},
			&cli.BoolFlag{Name: "list", Usage: "only list the (sampled) mutants, run nothing"},
		},
		Action: mutateAction,
	}
}

func defaultWorkloadsText() string {
	var s []string
	for _, p := range slices.Sorted(maps.Keys(mutate.DefaultWorkloads)) {
		s = append(s, p+" -> "+strings.Join(mutate.DefaultWorkloads[p], ","))
	}
	return strings.Join(s, "; ")
}

func mutateAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("mutate: unexpected argument %q (packages go in --package)", c.Args().First())
	}
	if _, err := harness.ParseSeeds(c.String("seeds")); err != nil {
		return usagef("--seeds: %v", err)
	}
	if c.Int("jobs") < 1 || c.Int("sweep-jobs") < 1 {
		return usagef("--jobs and --sweep-jobs must be at least 1")
	}
	if c.Int("sample") < 0 || c.Duration("timeout") < 0 {
		return usagef("--sample and --timeout must not be negative")
	}
	overrides, err := parseWorkloadFlags(c.StringSlice("workloads"))
	if err != nil {
		return err
	}
	equiv := map[string]string{}
	if path := c.String("equivalent"); path != "" {
		f, err := os.Open(path)
		if err != nil {
			return usagef("--equivalent: %v", err)
		}
		equiv, err = mutate.ParseEquivalent(f)
		f.Close()
		if err != nil {
			return usagef("--equivalent %s: %v", path, err)
		}
	}
	root, err := moduleRoot()
	if err != nil {
		return usagef("mutate: %v", err)
	}
	pkgs, err := mutatePackages(c, root, overrides)
	if err != nil {
		return err
	}
	w := c.App.Writer
	if c.Bool("list") {
		for _, p := range pkgs {
			fmt.Fprintf(w, "%s: %d of %d mutants (workloads %s)\n", p.Dir, len(p.Mutants), p.Total, strings.Join(p.Workloads, ","))
			for _, m := range p.Mutants {
				fmt.Fprintf(w, "  %s  %s\n", m.ID, m.Change)
			}
		}
		return nil
	}
	// An interrupt cancels the run: its go builds, sweeps and tests stop and the temporary
	// directory goes.
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	rep, err := mutate.Run(ctx, mutate.Config{
		Module: root, Seeds: c.String("seeds"), Jobs: c.Int("jobs"), SweepJobs: c.Int("sweep-jobs"),
		Timeout: c.Duration("timeout"), TestArgs: strings.Fields(c.String("test-flags")), Go: os.Getenv("GO"),
		Equivalent: equiv,
		Log:        func(format string, args ...any) { fmt.Fprintf(c.App.ErrWriter, format+"\n", args...) },
	}, pkgs)
	interrupted := errors.Is(err, context.Canceled) && len(rep.Packages) > 0
	if err != nil && !interrupted {
		return cli.Exit(fmt.Sprintf("orrery mutate: %v", err), exitUsage)
	}
	if err := rep.WriteTable(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "wall time: %v\n", time.Since(start).Round(time.Second))
	if path := c.String("json"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return cli.Exit(fmt.Sprintf("orrery mutate: --json: %v", err), exitUsage)
		}
		defer f.Close()
		if err := rep.WriteJSON(f); err != nil {
			return cli.Exit(fmt.Sprintf("orrery mutate: --json: %v", err), exitUsage)
		}
	}
	if interrupted {
		return cli.Exit("orrery mutate: interrupted: the results above are partial", exitInconclusive)
	}
	return nil
}

// parseWorkloadFlags reads --workloads PKG=W1,W2 values, checking the workload names. The
// slice flag splits values at commas, so a value without "=" continues the previous one.
func parseWorkloadFlags(vals []string) (map[string][]string, error) {
	out := map[string][]string{}
	last := ""
	for _, v := range vals {
		pkg, w, ok := strings.Cut(v, "=")
		switch {
		case ok && pkg != "" && w != "":
			last = cleanPkg(pkg)
			out[last] = nil
		case !ok && last != "" && v != "":
			w = v
		default:
			return nil, usagef("--workloads: want PKG=W1,W2, got %q", strings.Join(vals, ","))
		}
		if _, err := workload.Lookup(w); err != nil {
			return nil, usagef("--workloads: %v", err)
		}
		out[last] = append(out[last], w)
	}
	return out, nil
}

// cleanPkg turns ./node/raft/ into node/raft.
func cleanPkg(p string) string {
	return filepath.ToSlash(filepath.Clean(strings.TrimPrefix(p, "./")))
}

func mutatePackages(c *cli.Context, root string, overrides map[string][]string) ([]mutate.Package, error) {
	names := c.StringSlice("package")
	if len(names) == 0 {
		names = defaultMutatePackages
	}
	var pkgs []mutate.Package
	for _, n := range names {
		dir := cleanPkg(n)
		ws, ok := overrides[dir]
		if !ok {
			ws, ok = mutate.DefaultWorkloads[dir]
		}
		if !ok {
			return nil, usagef("--package %s: no default workloads for it; give them with --workloads %s=W1,W2", n, dir)
		}
		if st, err := os.Stat(filepath.Join(root, dir)); err != nil || !st.IsDir() {
			return nil, usagef("--package %s: not a directory under %s", n, root)
		}
		ms, err := mutate.Generate(filepath.Join(root, dir))
		if err != nil {
			return nil, usagef("--package %s: %v", n, err)
		}
		pkgs = append(pkgs, mutate.Package{Dir: dir, Workloads: ws, Total: len(ms),
			Mutants: mutate.Sample(ms, c.Int("sample"), c.Uint64("sample-seed"))})
	}
	return pkgs, nil
}

// moduleRoot is the directory of the go.mod at or above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod at or above the working directory: run from the module's root")
		}
		dir = parent
	}
}
