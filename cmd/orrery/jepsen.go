package main

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/orrery/orrery/jepsen"
)

func jepsenCommand() *cli.Command {
	return &cli.Command{
		Name:  "jepsen",
		Usage: "attack a real cluster in network namespaces and check its history",
		Subcommands: []*cli.Command{{
			Name:  "run",
			Usage: "run a workload under a fault schedule, check it, and write a results folder",
			UsageText: "orrery jepsen run --nodes 5 --time 120s --nemesis all --workload register|set|watch|lock\n" +
				"   [--rate 50] [--concurrency 10] [--fault-interval 10s] [--bug NAME] [--etcd-bin PATH] [--binary PATH] [--out DIR] [--seed N]",
			Flags: []cli.Flag{
				&cli.IntFlag{Name: "nodes", Value: 5, Usage: "cluster size"},
				&cli.DurationFlag{Name: "time", Value: 60 * time.Second, Usage: "length of the faulty phase"},
				&cli.StringFlag{Name: "nemesis", Value: "all", Usage: "comma-separated nemeses, all, or none: " + strings.Join(jepsen.NemesisNames(), ", ")},
				&cli.StringFlag{Name: "workload", Value: "register", Usage: strings.Join(jepsen.Workloads(), ", ")},
				&cli.Float64Flag{Name: "rate", Value: 50, Usage: "operations per second, over all clients"},
				&cli.IntFlag{Name: "concurrency", Value: 10, Usage: "logical clients"},
				&cli.DurationFlag{Name: "fault-interval", Value: 10 * time.Second, Usage: "how long a fault lasts, and the healthy time between faults"},
				&cli.StringSliceFlag{Name: "bug", Usage: "start the nodes with this planted bug (repeatable)"},
				&cli.StringFlag{Name: "etcd-bin", Usage: "run this etcd binary instead of orrery nodes (calibration)"},
				&cli.StringFlag{Name: "binary", Usage: "the orrery binary the nodes run (default: this one)"},
				&cli.StringFlag{Name: "out", Usage: "results folder (default results/<timestamp>)"},
				&cli.Int64Flag{Name: "seed", Usage: "seed of the fault schedule and the generator (default: from the clock)"},
				&cli.BoolFlag{Name: "verbose", Usage: "log progress to stderr"},
			},
			Action: jepsenRun,
		}},
	}
}

func jepsenRun(c *cli.Context) error {
	if c.NArg() != 0 {
		return usagef("jepsen run: unexpected arguments %v", c.Args().Slice())
	}
	o, err := jepsenOptions(c)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := jepsen.Run(ctx, o)
	if err != nil {
		return cli.Exit("orrery jepsen run: "+err.Error(), exitUsage)
	}
	printJepsen(c.App.Writer, sum)
	switch sum.Valid {
	case jepsen.Valid:
		return nil
	case jepsen.Invalid:
		return cli.Exit("", exitViolation)
	}
	return cli.Exit("", exitInconclusive)
}

func jepsenOptions(c *cli.Context) (jepsen.RunOptions, error) {
	o := jepsen.RunOptions{
		Nodes: c.Int("nodes"), Time: c.Duration("time"), Rate: c.Float64("rate"), Concurrency: c.Int("concurrency"),
		FaultInterval: c.Duration("fault-interval"), Workload: c.String("workload"), Bugs: c.StringSlice("bug"),
		EtcdBin: c.String("etcd-bin"), Binary: c.String("binary"), Out: c.String("out"), Seed: c.Int64("seed"),
	}
	switch {
	case o.Nodes < 1:
		return o, usagef("jepsen run: --nodes must be at least 1")
	case o.Time <= 0 || o.FaultInterval <= 0:
		return o, usagef("jepsen run: --time and --fault-interval must be positive")
	case o.Rate <= 0 || o.Concurrency < 1:
		return o, usagef("jepsen run: --rate and --concurrency must be positive")
	case !slices.Contains(jepsen.Workloads(), o.Workload):
		return o, usagef("jepsen run: unknown workload %q (want %s)", o.Workload, strings.Join(jepsen.Workloads(), ", "))
	}
	for _, n := range strings.Split(c.String("nemesis"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			o.Nemesis = append(o.Nemesis, n)
		}
	}
	if len(o.Nemesis) == 0 {
		o.Nemesis = []string{"none"}
	}
	if len(o.Nemesis) > 1 || (o.Nemesis[0] != "none" && o.Nemesis[0] != "all") {
		if _, err := jepsen.Nemeses(o.Nemesis...); err != nil {
			return o, usagef("jepsen run: %v", err)
		}
	}
	if o.Binary == "" && o.EtcdBin == "" {
		exe, err := os.Executable()
		if err != nil {
			return o, usagef("jepsen run: cannot find this binary (%v): pass --binary", err)
		}
		o.Binary = exe
	}
	if o.Binary != "" {
		abs, err := filepath.Abs(o.Binary)
		if err != nil {
			return o, usagef("jepsen run: --binary: %v", err)
		}
		o.Binary = abs
	}
	if c.Bool("verbose") {
		o.Logger = slog.New(slog.NewTextHandler(c.App.ErrWriter, nil))
	}
	return o, nil
}

// printJepsen prints the short verdict.
func printJepsen(w io.Writer, s jepsen.Summary) {
	verdict := map[jepsen.Validity]string{jepsen.Valid: "VALID", jepsen.Invalid: "INVALID"}[s.Valid]
	if verdict == "" {
		verdict = "UNKNOWN"
	}
	fmt.Fprintf(w, "jepsen: %s  workload: %s  nodes: %d  seed: %d\n", verdict, s.Workload, s.Nodes, s.Seed)
	fmt.Fprintf(w, "  %s\n", s.Verdict)
	var ops []string
	for _, f := range slices.Sorted(maps.Keys(s.Counts)) {
		n := s.Counts[f]
		ops = append(ops, fmt.Sprintf("%s %d/%d/%d", f, n.OK, n.Fail, n.Info))
	}
	fmt.Fprintf(w, "  ops (ok/fail/info): %s\n", strings.Join(ops, ", "))
	var faults []string
	for _, f := range s.Faults {
		faults = append(faults, fmt.Sprintf("%s x%d", f.Name, f.Count))
	}
	if len(faults) == 0 {
		faults = []string{"none"}
	}
	fmt.Fprintf(w, "  faults: %s\n", strings.Join(faults, ", "))
	if len(s.SkippedNemeses) > 0 {
		fmt.Fprintf(w, "  skipped (unsupported here): %s\n", strings.Join(s.SkippedNemeses, ", "))
	}
	for _, e := range s.Errors {
		fmt.Fprintf(w, "  warning: %s\n", e)
	}
	fmt.Fprintf(w, "  results: %s (%.0fs)\n", s.Out, s.Timings.Total)
}
