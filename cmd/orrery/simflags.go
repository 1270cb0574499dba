package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/orrery/orrery/node/bugs"
	"github.com/orrery/orrery/sim"
	"github.com/orrery/orrery/sim/harness"
	"github.com/orrery/orrery/sim/workload"
)

// worldFlags are the options shared by sim run, sweep and replay: everything that decides
// what a seed does. The replay command is rebuilt from them.
func worldFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "workload", Value: "all", Usage: "workload to run (" + strings.Join(workload.Names(), ", ") + "; all is the etcd stack, register the ABD example)"},
		&cli.IntFlag{Name: "nodes", Usage: "servers (0 = the workload's default)"},
		&cli.IntFlag{Name: "clients", Usage: "concurrent clients (0 = the workload's default)"},
		&cli.IntFlag{Name: "keys", Usage: "size of the key space (0 = the workload's default)"},
		&cli.IntFlag{Name: "ops", Value: 200, Usage: "client operations while faults are active"},
		&cli.StringFlag{Name: "faults", Value: "all", Usage: "all (swarm: each seed draws its own mix), none, or a list of: " + joinFaults()},
		&cli.StringSliceFlag{Name: "bug", Usage: "switch on a planted bug (repeatable): " + strings.Join(workload.AllBugs().Names(), ", ")},
		&cli.DurationFlag{Name: "op-timeout", Value: time.Second, Usage: "virtual time after which a client records an operation as indefinite"},
		&cli.DurationFlag{Name: "liveness", Value: 10 * time.Second, Usage: "virtual time the final operations may take once faults stop"},
		&cli.DurationFlag{Name: "check-timeout", Value: 30 * time.Second, Usage: "wall time the linearizability checker may spend on one history"},
	}
}

func joinFaults() string {
	s := make([]string, len(sim.AllFaults))
	for i, f := range sim.AllFaults {
		s[i] = string(f)
	}
	return strings.Join(append(s, string(sim.FaultPoints)), ",")
}

// setup is a parsed world description.
type setup struct {
	workload string
	cfg      workload.Config
	sys      sim.System
	opts     sim.Options
	chk      harness.Checker
	replay   []string // flags that reproduce this setup, for the replay command
	scenario string   // the scenario file run instead of a seed, if any
}

func parseSetup(c *cli.Context) (setup, error) {
	w, err := workload.Lookup(c.String("workload"))
	if err != nil {
		return setup{}, usagef("%v", err)
	}
	faults, err := sim.ParseFaults(c.String("faults"))
	if err != nil {
		return setup{}, usagef("--faults: %v", err)
	}
	cfg := workload.Config{Nodes: c.Int("nodes"), Clients: c.Int("clients"), Keys: c.Int("keys"), Bugs: bugs.With(c.StringSlice("bug")...)}
	sys, err := w.BuildSystem(cfg)
	if err != nil {
		return setup{}, usagef("%v", err)
	}
	if c.Int("ops") < 1 {
		return setup{}, usagef("--ops must be at least 1, got %d", c.Int("ops"))
	}
	if c.Duration("op-timeout") <= 0 || c.Duration("liveness") <= 0 {
		return setup{}, usagef("--op-timeout and --liveness must be positive")
	}
	s := setup{
		workload: w.Name,
		cfg:      cfg,
		sys:      sys,
		opts: sim.Options{
			Ops: c.Int("ops"), Faults: faults,
			OpTimeout: c.Duration("op-timeout"), Liveness: c.Duration("liveness"),
		},
		chk: harness.Checker{Timeout: c.Duration("check-timeout")},
	}
	s.replay = replayFlags(c)
	return s, nil
}

// replayFlags lists the world flags the user set, in a fixed order.
func replayFlags(c *cli.Context) []string {
	out := []string{"--workload", c.String("workload")}
	for _, f := range []string{"nodes", "clients", "keys", "ops", "faults", "op-timeout", "liveness"} {
		if c.IsSet(f) {
			out = append(out, "--"+f, fmt.Sprint(c.Value(f)))
		}
	}
	for _, b := range c.StringSlice("bug") {
		out = append(out, "--bug", b)
	}
	return out
}

// replayCommand is the exact command that re-runs one seed.
func (s setup) replayCommand(seed uint64) string { return replayCommand(s.replay, seed) }

// replayCommand is the command that re-runs one seed of a sweep run with these world flags.
func replayCommand(flags []string, seed uint64) string {
	args := append([]string{selfCommand(), "sim", "run", "--seed", fmt.Sprint(seed)}, flags...)
	return strings.Join(args, " ")
}

// selfCommand is how the user invoked us: "go run ./cmd/orrery" when the binary lives in
// go run's temporary build directory, else "orrery".
func selfCommand() string {
	if strings.Contains(os.Args[0], "go-build") {
		return "go run ./cmd/orrery"
	}
	if filepath.Base(os.Args[0]) == "orrery" {
		return os.Args[0]
	}
	return "orrery"
}

// evidenceDir returns --out, or a new temporary directory.
func evidenceDir(c *cli.Context, name string) (string, error) {
	if d := c.String("out"); d != "" {
		return d, nil
	}
	return os.MkdirTemp("", "orrery-"+name+"-")
}
