package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/orrery/orrery/node/bugs"
	"github.com/orrery/orrery/sim"
	"github.com/orrery/orrery/sim/workload"
)

// Scenario is a run written down: the world (workload, servers, bugs, timeouts), the seed
// for what a script leaves to chance, and the script of client operations and faults. It
// stays meaningful after code changes that shift the seed's draws, and it is what the
// shrinker minimises. The file format is its JSON encoding.
type Scenario struct {
	Comment  string   `json:"comment,omitempty"`
	Workload string   `json:"workload"`
	Nodes    int      `json:"nodes"`
	Keys     int      `json:"keys,omitempty"`
	Bugs     []string `json:"bugs,omitempty"`
	Seed     uint64   `json:"seed"`
	// OpTimeout and Liveness as in sim.Options; 0 means the default.
	OpTimeout sim.Dur `json:"op_timeout,omitempty"`
	Liveness  sim.Dur `json:"liveness,omitempty"`
	// Expect is the class of outcome the scenario shows (see Class): "pass", or the
	// failure it reproduces.
	Expect string `json:"expect,omitempty"`
	sim.Script
}

// Faults counts the scenario's fault steps.
func (s *Scenario) Faults() int { return len(s.Steps) }

// Config is the workload configuration the scenario records: its servers, one client per
// client script, its key space and its bugs.
func (s *Scenario) Config() workload.Config {
	var on bugs.Set
	if len(s.Bugs) > 0 {
		on = bugs.With(s.Bugs...)
	}
	return workload.Config{Nodes: s.Nodes, Clients: len(s.Clients), Keys: s.Keys, Bugs: on}
}

// System builds the scenario's system from its workload.
func (s *Scenario) System() (sim.System, error) {
	w, err := workload.Lookup(s.Workload)
	if err != nil {
		return sim.System{}, err
	}
	return w.BuildSystem(s.Config())
}

// Options returns the options that run the scenario.
func (s *Scenario) Options() sim.Options {
	script := s.Script
	return sim.Options{Seed: s.Seed, OpTimeout: time.Duration(s.OpTimeout), Liveness: time.Duration(s.Liveness), Script: &script}
}

// Run runs the scenario and checks its outcome.
func (s *Scenario) Run(chk Checker) (Outcome, error) {
	sys, err := s.System()
	if err != nil {
		return Outcome{}, err
	}
	return RunSeed(sys, s.Options(), chk)
}

// Extract writes a seeded run down as a scenario that replays it.
func Extract(workloadName string, cfg workload.Config, sys sim.System, opts sim.Options, res sim.Result) (Scenario, error) {
	if res.Script == nil {
		return Scenario{}, fmt.Errorf("extract seed %d: the run recorded no script (a scripted or panicked run)", opts.Seed)
	}
	w, err := workload.Lookup(workloadName)
	if err != nil {
		return Scenario{}, fmt.Errorf("extract seed %d: %w", opts.Seed, err)
	}
	return Scenario{
		Workload: workloadName, Nodes: sys.Servers - w.Spares, Keys: cfg.Keys, Bugs: cfg.Bugs.Names(),
		Seed: opts.Seed, OpTimeout: sim.Dur(opts.OpTimeout), Liveness: sim.Dur(opts.Liveness),
		Script: *res.Script,
	}, nil
}

// ReadScenario reads a scenario file.
func ReadScenario(path string) (Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Scenario{}, fmt.Errorf("read scenario: %w", err)
	}
	var s Scenario
	if err := json.Unmarshal(b, &s); err != nil {
		return Scenario{}, fmt.Errorf("read scenario %s: %w", path, err)
	}
	if len(s.Clients) == 0 {
		return Scenario{}, fmt.Errorf("read scenario %s: no clients", path)
	}
	return s, nil
}

// WriteScenario writes a scenario file, indented, one operation or step per line.
func WriteScenario(path string, s Scenario) error {
	b, err := MarshalScenario(s)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// MarshalScenario encodes a scenario: indented, with each operation and step on one line.
func MarshalScenario(s Scenario) ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode scenario: %w", err)
	}
	return append(compactLeaves(b), '\n'), nil
}

// compactLeaves folds every innermost object (no nested object or array of objects) onto
// one line, so a scenario reads as one line per operation and step.
func compactLeaves(b []byte) []byte {
	return leafObject.ReplaceAllFunc(b, func(m []byte) []byte {
		return spaces.ReplaceAll(m, []byte(" "))
	})
}

var (
	leafObject = regexp.MustCompile(`\{[^{}\[\]]*(\[[^{}\[\]]*(\[[^{}\[\]]*\][^{}\[\]]*)*\][^{}\[\]]*)*\}`)
	spaces     = regexp.MustCompile(`\s*\n\s*`)
)

// Class names the kind of outcome, coarsely enough that a smaller run showing the same bug
// has the same class: "pass", "unknown", "safety: not linearizable", "safety: <the
// invariant's first words>", "liveness: <what was stuck>" or "panic: <message>", with
// numbers, node names and quoted or bracketed values blanked.
func Class(o Outcome) string {
	switch o.Kind {
	case Pass, Unknown:
		return string(o.Kind)
	case Safety:
		if strings.HasPrefix(o.Problem, "not linearizable") {
			return "safety: not linearizable"
		}
		return "safety: " + family(strings.TrimPrefix(o.Problem, "invariant broken: "), 4)
	case Liveness:
		return "liveness: " + family(strings.TrimPrefix(o.Problem, sim.ErrLiveness.Error()+": "), 3)
	}
	return string(o.Kind) + ": " + family(strings.TrimPrefix(o.Problem, "panic: "), 6)
}

var (
	quoted   = regexp.MustCompile(`"[^"]*"|\[[^\]]*\]|\([^)]*\)`)
	watcherN = regexp.MustCompile(`^watcher n\d+: `)
	digits   = regexp.MustCompile(`[0-9]+(\.[0-9]+)?[a-zµ]*`)
)

func family(problem string, words int) string {
	line, _, _ := strings.Cut(problem, "\n")
	line = watcherN.ReplaceAllString(line, "")
	line = quoted.ReplaceAllString(line, "_")
	line = digits.ReplaceAllString(line, "#")
	f := strings.Fields(line)
	return strings.Join(f[:min(words, len(f))], " ")
}
