package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/orrery/orrery/node/bugs"
	"github.com/orrery/orrery/sim"
	"github.com/orrery/orrery/sim/harness"
)

// scenarioFlagsUsage says how world flags combine with --scenario.
const scenarioFlagsUsage = "The scenario's recorded world wins: --workload, --nodes, --clients, --keys, --bug, " +
	"--seed, --op-timeout and --liveness given with it must agree with what it records (every --bug " +
	"naming exactly its bugs), and --ops and --faults are refused (its script fixes both)"

// scenarioSetup reads --scenario and builds the setup from it: the file's world (workload,
// servers, clients, keys, bugs, seed, timeouts, script) replaces the world flags, and a world
// flag the user set must agree with it (see scenarioFlagsUsage).
func scenarioSetup(c *cli.Context) (setup, *harness.Scenario, error) {
	path := c.String("scenario")
	sc, err := harness.ReadScenario(path)
	if err != nil {
		return setup{}, nil, usagef("%v", err)
	}
	sys, err := sc.System()
	if err != nil {
		return setup{}, nil, usagef("scenario %s: %v", path, err)
	}
	if err := scenarioConflict(c, path, sc, sys); err != nil {
		return setup{}, nil, err
	}
	s := setup{
		workload: sc.Workload,
		cfg:      sc.Config(),
		sys:      sys,
		opts:     sc.Options(),
		chk:      harness.Checker{Timeout: c.Duration("check-timeout")},
		scenario: path,
	}
	return s, &sc, nil
}

// scenarioConflict returns a usage error naming the first flag the user set that the
// scenario contradicts, and the value the scenario records.
func scenarioConflict(c *cli.Context, path string, sc harness.Scenario, sys sim.System) error {
	for _, v := range []struct {
		flag   string
		agrees bool
		value  any
	}{
		{"workload", c.String("workload") == sc.Workload, sc.Workload},
		{"nodes", c.Int("nodes") == sys.Servers, sys.Servers},
		{"clients", c.Int("clients") == sys.Clients, sys.Clients},
		{"keys", c.Int("keys") == sc.Keys, keysValue(sc.Keys)},
		{"seed", c.Uint64("seed") == sc.Seed, sc.Seed},
		{"op-timeout", c.Duration("op-timeout") == cmp.Or(time.Duration(sc.OpTimeout), sim.DefaultOpTimeout),
			cmp.Or(time.Duration(sc.OpTimeout), sim.DefaultOpTimeout)},
		{"liveness", c.Duration("liveness") == cmp.Or(time.Duration(sc.Liveness), sim.DefaultLiveness),
			cmp.Or(time.Duration(sc.Liveness), sim.DefaultLiveness)},
	} {
		if c.IsSet(v.flag) && !v.agrees {
			return usagef("--%s %v conflicts with --scenario %s, which records %s %v (drop the flag or make it agree)",
				v.flag, c.Value(v.flag), path, v.flag, v.value)
		}
	}
	for _, f := range []string{"ops", "faults"} {
		if c.IsSet(f) {
			return usagef("--%s %v conflicts with --scenario %s: the scenario scripts its own operations and faults (%d operations, %d fault steps)",
				f, c.Value(f), path, sc.Ops(), sc.Faults())
		}
	}
	if c.IsSet("bug") {
		given, recorded := bugs.With(c.StringSlice("bug")...), bugs.With(sc.Bugs...)
		if !slices.Equal(given.Names(), recorded.Names()) {
			records := "no bugs"
			if !recorded.Empty() {
				records = "bugs [" + strings.Join(recorded.Names(), " ") + "]"
			}
			return usagef("scenario %s records %s; --bug %s conflicts (give no --bug, or exactly the scenario's bugs)",
				path, records, strings.Join(c.StringSlice("bug"), " --bug "))
		}
	}
	return nil
}

func keysValue(keys int) string {
	if keys == 0 {
		return "0 (the workload's default)"
	}
	return fmt.Sprint(keys)
}
