package main

import (
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/orrery/orrery/sim/harness"
)

func shrinkCommand() *cli.Command {
	return &cli.Command{
		Name:  "shrink",
		Usage: "turn a failing seed into a scenario and minimise it while the same class of failure persists",
		UsageText: "orrery sim shrink --seed N [same options as sim run] [--out FILE] [--jobs N] [--max-runs N]\n" +
			"   orrery sim shrink --scenario FILE [--out FILE]",
		Flags: append(worldFlags(),
			&cli.Uint64Flag{Name: "seed", Usage: "the failing seed"},
			&cli.StringFlag{Name: "scenario", Usage: "shrink a failing scenario file instead of a seed. " + scenarioFlagsUsage},
			&cli.StringFlag{Name: "out", Usage: "where to write the minimal scenario (default: orrery-<workload>-seed<N>.min.json)"},
			&cli.IntFlag{Name: "jobs", Value: runtime.NumCPU(), Usage: "candidate runs in parallel"},
			&cli.IntFlag{Name: "max-runs", Value: 3000, Usage: "give up after this many candidate runs"},
			&cli.IntFlag{Name: "reseeds", Value: 8, Usage: "also try each candidate with this many other seeds when its own does not fail"}),
		Action: simShrink,
	}
}

func simShrink(c *cli.Context) error {
	w := c.App.Writer
	var sc harness.Scenario
	var s setup
	switch {
	case c.IsSet("scenario"):
		var p *harness.Scenario
		var err error
		if s, p, err = scenarioSetup(c); err != nil {
			return err
		}
		sc = *p
	case c.IsSet("seed"):
		var err error
		if s, err = parseSetup(c); err != nil {
			return err
		}
		s.opts.Seed = c.Uint64("seed")
		out, err := harness.RunSeed(s.sys, s.opts, s.chk)
		if err != nil {
			return usagef("%v", err)
		}
		fmt.Fprintf(w, "seed %d: %s: %s\n", s.opts.Seed, out.Kind, oneLine(out.Problem))
		if !out.Failed() {
			return usagef("seed %d does not fail (%s): nothing to shrink", s.opts.Seed, out.Kind)
		}
		if sc, err = harness.Extract(s.workload, s.cfg, s.sys, s.opts, out.Result); err != nil {
			return usagef("%v", err)
		}
		sc.Comment = fmt.Sprintf("shrunk from: %s", s.replayCommand(s.opts.Seed))
	default:
		return usagef("sim shrink needs --seed N or --scenario FILE")
	}
	start := time.Now()
	res, err := harness.Shrink(sc, harness.ShrinkConfig{
		Checker: s.chk, Jobs: c.Int("jobs"), MaxRuns: c.Int("max-runs"), Reseeds: c.Int("reseeds"),
		Progress: func(line string) { fmt.Fprintf(w, "shrink: %s\n", line) },
	})
	if err != nil {
		return cli.Exit(fmt.Sprintf("orrery sim shrink: %v", err), exitUsage)
	}
	path := c.String("out")
	if path == "" {
		path = fmt.Sprintf("orrery-%s-seed%d.min.json", sc.Workload, sc.Seed)
	}
	if err := harness.WriteScenario(path, res.Scenario); err != nil {
		return cli.Exit(fmt.Sprintf("orrery sim shrink: %v", err), exitUsage)
	}
	fmt.Fprintf(w, "minimal: %d operations (from %d), %d faults (from %d), %d servers; %d runs in %v\n",
		res.Scenario.Ops(), res.FromOps, res.Scenario.Faults(), res.FromFaults, res.Scenario.Nodes, res.Runs, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(w, "class:   %s\n", res.Class)
	fmt.Fprintf(w, "problem: %s\n", oneLine(res.Outcome.Problem))
	fmt.Fprintf(w, "scenario: %s\n", path)
	fmt.Fprintf(w, "replay:  %s sim run --scenario %s\n", selfCommand(), path)
	return nil
}

// saveScenario writes --save-scenario: the run itself (a seeded run's recorded script) or
// the scenario it ran.
func saveScenario(c *cli.Context, s setup, sc *harness.Scenario, out harness.Outcome) error {
	path := c.String("save-scenario")
	if path == "" {
		return nil
	}
	var save harness.Scenario
	if sc != nil {
		save = *sc
	} else {
		if out.Result.Script == nil {
			return cli.Exit("orrery sim run: the run recorded no script (it panicked)", exitUsage)
		}
		var err error
		if save, err = harness.Extract(s.workload, s.cfg, s.sys, s.opts, out.Result); err != nil {
			return cli.Exit(fmt.Sprintf("orrery sim run: %v", err), exitUsage)
		}
		save.Comment = "recorded from: " + s.replayCommand(s.opts.Seed)
	}
	save.Expect = harness.Class(out)
	if err := harness.WriteScenario(path, save); err != nil {
		return cli.Exit(fmt.Sprintf("orrery sim run: %v", err), exitUsage)
	}
	fmt.Fprintf(c.App.Writer, "scenario: %s (replay: %s sim run --scenario %s)\n", path, selfCommand(), filepath.Clean(path))
	return nil
}
