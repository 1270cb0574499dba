package workload

import (
	"fmt"
	"slices"
	"strings"

	"github.com/orrery/orrery/node/bugs"
	"github.com/orrery/orrery/sim"
)

// Config is what a user may vary for a built-in workload.
type Config struct {
	Nodes   int // servers; 0 = the workload's default
	Clients int // 0 = the workload's default
	Keys    int // 0 = the workload's default
	Bugs    bugs.Set
}

// Workload builds systems of one kind.
type Workload struct {
	Name        string
	Description string
	Bugs        bugs.Catalog
	Build       func(Config) (sim.System, error)
	// Spares is how many servers a system has beyond Config.Nodes: processes that start
	// outside the cluster and join it (numbered after the members). A scenario records
	// Config.Nodes, so it needs them to tell the two apart.
	Spares int
}

// All returns the built-in workloads, sorted by name.
func All() []Workload {
	return []Workload{allWorkload(), appendWorkload(), kvWorkload(), lockWorkload(), membersWorkload(), mvccWorkload(), raftlogWorkload(), raftregWorkload(), registerWorkload(), watchWorkload()}
}

// Names lists the built-in workload names, sorted.
func Names() []string {
	var out []string
	for _, w := range All() {
		out = append(out, w.Name)
	}
	slices.Sort(out)
	return out
}

// Lookup finds a workload by name.
func Lookup(name string) (Workload, error) {
	for _, w := range All() {
		if w.Name == name {
			return w, nil
		}
	}
	return Workload{}, fmt.Errorf("unknown workload %q (known: %s)", name, strings.Join(Names(), ", "))
}

// AllBugs lists every planted bug of every workload once, for validating --bug.
func AllBugs() bugs.Catalog {
	var out bugs.Catalog
	for _, w := range All() {
		for _, b := range w.Bugs {
			if !out.Has(b.Name) {
				out = append(out, b)
			}
		}
	}
	return out
}

// BuildSystem validates cfg against the workload (bugs must be ones it plants) and builds the system.
func (w Workload) BuildSystem(cfg Config) (sim.System, error) {
	if err := cfg.Bugs.Validate(w.Bugs); err != nil {
		return sim.System{}, fmt.Errorf("workload %s: %w", w.Name, err)
	}
	if cfg.Nodes < 0 || cfg.Clients < 0 || cfg.Keys < 0 {
		return sim.System{}, fmt.Errorf("workload %s: nodes, clients and keys must not be negative", w.Name)
	}
	return w.Build(cfg)
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
