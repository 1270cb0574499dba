package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/orrery/orrery/checker/history"
	"github.com/orrery/orrery/sim/harness"
)

func simCommand() *cli.Command {
	return &cli.Command{
		Name:  "sim",
		Usage: "run seeded simulations and check their histories",
		Subcommands: []*cli.Command{
			{
				Name:      "run",
				Usage:     "run one seed, check it, and write the evidence if it fails",
				UsageText: "orrery sim run --seed N [--workload all] [--nodes 5] [--faults all|none|LIST] [--bug NAME] [--out DIR]\n   orrery sim run --scenario FILE",
				Flags: append(worldFlags(),
					&cli.Uint64Flag{Name: "seed", Usage: "the seed: same seed, same run (required unless --scenario)"},
					&cli.StringFlag{Name: "scenario", Usage: "run a scenario file (from sim shrink or --save-scenario) instead of a seed. " + scenarioFlagsUsage},
					&cli.StringFlag{Name: "save-scenario", Usage: "write the run as a scenario file (its client operations and faults as timed steps)"},
					&cli.BoolFlag{Name: "check-determinism", Usage: "run twice and report the first event at which the runs differ"},
					&cli.StringFlag{Name: "out", Usage: "where a failing run writes its evidence (default: a new temporary directory)"},
					&cli.StringFlag{Name: "history", Usage: "also write the run's history (JSON Lines) to this file, pass or fail"},
					&cli.BoolFlag{Name: "trace", Usage: "print every event of the run"}),
				Action: simRun,
			},
			{
				Name:      "replay",
				Usage:     "re-run one seed, printing its event trace",
				UsageText: "orrery sim replay --seed N --trace [same options as the run]",
				Flags: append(worldFlags(),
					&cli.Uint64Flag{Name: "seed", Required: true, Usage: "the seed to replay"},
					&cli.StringFlag{Name: "out", Usage: "where a failing run writes its evidence"},
					&cli.BoolFlag{Name: "trace", Value: true, Usage: "print every event of the run"}),
				Action: simRun,
			},
			{
				Name:      "sweep",
				Usage:     "run many seeds on parallel workers and summarise",
				UsageText: "orrery sim sweep --seeds 1-200 [--jobs N] [--shard K/N] [--json FILE] [--baseline FILE] [same options as sim run]",
				Flags: append(worldFlags(),
					&cli.StringFlag{Name: "seeds", Value: "1-200", Usage: "seeds to run: A-B, N, or a comma-separated mix"},
					&cli.IntFlag{Name: "jobs", Value: runtime.NumCPU(), Usage: "parallel workers"},
					&cli.StringFlag{Name: "out", Usage: "where evidence of failing seeds goes (default: a new temporary directory)"},
					&cli.IntFlag{Name: "evidence", Value: 3, Usage: "write evidence for at most this many failing seeds"},
					&cli.IntFlag{Name: "stop-after", Usage: "stop after this many failing seeds (0 = run them all)"},
					&cli.Uint64Flag{Name: "check-determinism-every", Value: 50, Usage: "run every seed divisible by this twice and fail it if the runs differ (0 = never)"},
					&cli.BoolFlag{Name: "progress", Usage: "force the progress bar even when not on a terminal"},
					&cli.StringFlag{Name: "shard", Usage: "run only the K-th of N shards of the seeds (K/N, every N-th seed from the K-th); default from JOB_COMPLETION_INDEX (0-based) and JOB_COMPLETION_COUNT when set, as in a Kubernetes Indexed Job"},
					&cli.StringFlag{Name: "json", Usage: "also write the summary as JSON to this file, for sim merge"},
					&cli.StringFlag{Name: "baseline", Usage: "compare each seed's cost (virtual time, messages, fsyncs, bytes written and stored) with this --json summary of the same setup; a significant rise exits 4"}),
				Action: simSweep,
			},
			{
				Name:      "merge",
				Usage:     "combine the JSON summaries of a sweep's shards into one report",
				UsageText: "orrery sim merge [--json OUT] SHARD.json...",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "json", Usage: "also write the merged summary as JSON to this file"},
				},
				Action: simMerge,
			},
			shrinkCommand(),
		},
	}
}

func simRun(c *cli.Context) error {
	var s setup
	var sc *harness.Scenario
	var err error
	switch {
	case c.IsSet("scenario"):
		s, sc, err = scenarioSetup(c)
	case !c.IsSet("seed"):
		return usagef("sim %s needs --seed N or --scenario FILE", c.Command.Name)
	default:
		s, err = parseSetup(c)
		s.opts.Seed = c.Uint64("seed")
	}
	if err != nil {
		return err
	}
	w := c.App.Writer
	if c.Bool("trace") {
		s.opts.Trace = func(line string) { fmt.Fprintln(w, line) }
	}
	var out harness.Outcome
	var div *harness.Divergence
	if c.Bool("check-determinism") {
		out, div, err = harness.CheckDeterminism(s.sys, s.opts, s.chk)
	} else {
		out, err = harness.RunSeed(s.sys, s.opts, s.chk)
	}
	if err != nil {
		return usagef("%v", err)
	}
	if err := saveScenario(c, s, sc, out); err != nil {
		return err
	}
	if div != nil {
		printRun(w, s, out)
		fmt.Fprintf(w, "result: FAIL (nondeterministic): %s\n", div)
		return cli.Exit("", exitViolation)
	}
	if c.Bool("check-determinism") {
		fmt.Fprintf(w, "determinism: two runs agree on all %d events\n", out.Result.Events)
	}
	if sc != nil && sc.Expect != "" {
		defer fmt.Fprintf(w, "scenario expects: %s; got: %s\n", sc.Expect, harness.Class(out))
	}
	if path := c.String("history"); path != "" {
		if err := writeHistory(path, out.Result.History); err != nil {
			return cli.Exit(fmt.Sprintf("orrery sim run: %v", err), exitUsage)
		}
	}
	printRun(w, s, out)
	return verdict(c, s, out)
}

func printRun(w io.Writer, s setup, out harness.Outcome) {
	r := out.Result
	fmt.Fprintf(w, "seed: %d  workload: %s  servers: %d  clients: %d  faults: %s\n",
		r.Seed, s.workload, s.sys.Servers, s.sys.Clients, r.Profile)
	fmt.Fprintf(w, "events: %d  simulated: %v  wall: %v  ops: %s\n",
		r.Events, r.SimTime.Round(time.Microsecond), out.Wall.Round(time.Millisecond), opCounts(r.History))
	fmt.Fprintf(w, "trace-hash: %s\n", r.TraceHash)
}

// opCounts summarises completions by type, e.g. "412 (ok 380, fail 2, info 30)".
func opCounts(events []history.Event) string {
	var ok, fail, info, total int
	for _, e := range events {
		switch e.Type {
		case history.Invoke:
			total++
		case history.OK:
			ok++
		case history.Fail:
			fail++
		case history.Info:
			info++
		}
	}
	return fmt.Sprintf("%d (ok %d, fail %d, info %d)", total, ok, fail, info)
}

// verdict prints the result line and, on failure, writes the evidence.
func verdict(c *cli.Context, s setup, out harness.Outcome) error {
	w := c.App.Writer
	switch out.Kind {
	case harness.Pass:
		if s.sys.Model == "" {
			fmt.Fprintln(w, "result: PASS (invariants hold)")
		} else {
			fmt.Fprintf(w, "result: PASS (linearizable, %d ops on %d keys)\n", out.Check.Ops, out.Check.Keys)
		}
		return nil
	case harness.Unknown:
		fmt.Fprintf(w, "result: UNKNOWN: %s\n", out.Problem)
		return cli.Exit("", exitInconclusive)
	}
	fmt.Fprintf(w, "result: FAIL (%s): %s\n", out.Kind, out.Problem)
	dir, err := evidenceDir(c, fmt.Sprintf("seed%d", out.Result.Seed))
	if err != nil {
		return cli.Exit(fmt.Sprintf("orrery: evidence: %v", err), exitViolation)
	}
	replay := s.replayCommand(out.Result.Seed)
	if s.scenario != "" {
		replay = selfCommand() + " sim run --scenario " + s.scenario
	}
	if err := harness.WriteEvidence(dir, s.sys, s.opts, out, replay); err != nil {
		return cli.Exit(fmt.Sprintf("orrery: evidence: %v", err), exitViolation)
	}
	fmt.Fprintf(w, "evidence: %s (history.jsonl, visualization.html, trace.txt)\n", dir)
	if s.sys.Model != "" {
		fmt.Fprintf(w, "check:    %s check %s --model %s\n", selfCommand(), filepath.Join(dir, "history.jsonl"), s.sys.Model)
	}
	fmt.Fprintf(w, "replay:   %s\n", replay)
	return cli.Exit("", exitViolation)
}

func writeHistory(path string, events []history.Event) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := history.Write(f, events); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
