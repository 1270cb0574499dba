package harness

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/orrery/orrery/sim"
)

// ShrinkConfig bounds and reports a shrink.
type ShrinkConfig struct {
	Checker Checker
	Jobs    int // candidate runs in parallel; < 1 means 1
	// MaxRuns bounds the candidate runs; 0 means 3000.
	MaxRuns int
	// Reseeds is how many other seeds (the scenario's seed + 1, + 2, ...) a candidate is
	// also tried with when it does not fail with its own. A reduction that moves the
	// run's timing a little loses a failure that hangs on one coincidence, although the
	// smaller script still holds the bug; another seed's message latencies often find it
	// again. 0 tries the scenario's seed only.
	Reseeds int
	// Progress, when set, receives one line per accepted reduction.
	Progress func(line string)
}

// ShrinkResult is a minimal scenario and how it was reached.
type ShrinkResult struct {
	Scenario Scenario
	Class    string
	Outcome  Outcome // the minimal scenario's outcome
	Runs     int     // candidate runs
	// FromOps and FromFaults are the size of the scenario the shrink started from.
	FromOps, FromFaults int
}

// ErrDoesNotFail is returned when the scenario to shrink does not fail.
var ErrDoesNotFail = errors.New("shrink: the scenario does not fail")

// Shrink minimises a failing scenario while its failure keeps its class (see Class): it
// cuts the run short, drops client operations (delta debugging: halves, then smaller
// chunks, then single operations), final operations and whole clients, drops fault steps,
// shortens the ones left, and removes servers when the workload still fails with fewer.
// Each pass repeats until nothing more can go. Candidates run Jobs at a time; the
// accepted one is always the first in a fixed order that fails, so the result does not
// depend on Jobs.
func Shrink(s Scenario, cfg ShrinkConfig) (ShrinkResult, error) {
	sh := &shrinker{cfg: cfg, jobs: max(cfg.Jobs, 1), budget: cfg.MaxRuns}
	if sh.budget == 0 {
		sh.budget = 3000
	}
	out, err := s.Run(cfg.Checker)
	if err != nil {
		return ShrinkResult{}, err
	}
	if !out.Failed() {
		return ShrinkResult{}, fmt.Errorf("%w (outcome: %s)", ErrDoesNotFail, out.Kind)
	}
	sh.class = Class(out)
	sh.best, sh.out = s, out
	sh.best.Expect = sh.class
	sh.logf("start: %s; %s", sh.class, size(s))
	for round := 1; ; round++ {
		before := size(sh.best)
		sh.truncate()
		sh.accept("widened point-tied faults", widenCands(sh.best))
		sh.each("faults of one kind", kindCands)
		sh.ddmin("faults", stepUnits(sh.best), keepSteps)
		sh.ddmin("operations", opUnits(sh.best), keepOps)
		sh.each("final operations", finalCands)
		sh.each("clients", clientCands)
		sh.each("merged faults", mergeCands)
		sh.each("servers", serverCands)
		sh.each("fault lengths", shortenCands)
		sh.each("leftovers", leftoverCands)
		if size(sh.best) == before || sh.runs >= sh.budget {
			break
		}
		sh.logf("round %d done: %s", round, size(sh.best))
	}
	return ShrinkResult{Scenario: sh.best, Class: sh.class, Outcome: sh.out, Runs: sh.runs, FromOps: s.Ops(), FromFaults: s.Faults()}, nil
}

type shrinker struct {
	cfg    ShrinkConfig
	jobs   int
	budget int
	runs   int
	class  string
	best   Scenario
	out    Outcome
}

func size(s Scenario) string {
	return fmt.Sprintf("%d operations, %d faults, %d servers, %d clients", s.Ops(), s.Faults(), s.Nodes, len(s.Clients))
}

func (sh *shrinker) logf(format string, args ...any) {
	if sh.cfg.Progress != nil {
		sh.cfg.Progress(fmt.Sprintf(format, args...))
	}
}

// first runs the candidates in order, jobs at a time, each with its own seed and then,
// when none fails, each with the next seed (Reseeds times). It returns the index of the
// first that fails with the class being shrunk, or -1; a candidate that failed with
// another seed has that seed set.
func (sh *shrinker) first(cands []Scenario) int {
	n := len(cands)
	for k := 0; k < n*(sh.cfg.Reseeds+1) && sh.runs < sh.budget; k += sh.jobs {
		hi := min(k+sh.jobs, n*(sh.cfg.Reseeds+1), k+sh.budget-sh.runs)
		tries := make([]Scenario, hi-k)
		outs := make([]Outcome, hi-k)
		ok := make([]bool, hi-k)
		var wg sync.WaitGroup
		for j := k; j < hi; j++ {
			tries[j-k] = cands[j%n]
			tries[j-k].Seed += uint64(j / n)
			wg.Add(1)
			go func() {
				defer wg.Done()
				o, err := tries[j-k].Run(sh.cfg.Checker)
				outs[j-k], ok[j-k] = o, err == nil && o.Failed() && Class(o) == sh.class
			}()
		}
		wg.Wait()
		sh.runs += hi - k
		for j := range ok {
			if ok[j] {
				sh.out = outs[j]
				cands[(k+j)%n].Seed = tries[j].Seed
				return (k + j) % n
			}
		}
	}
	return -1
}

// accept tries candidates and keeps the first that still fails.
func (sh *shrinker) accept(what string, cands []Scenario) bool {
	i := sh.first(cands)
	if i < 0 {
		return false
	}
	sh.best = cands[i]
	sh.best.Expect = sh.class
	sh.logf("%s: %s (run %d)", what, size(sh.best), sh.runs)
	return true
}

// each tries the candidates a generator offers until none fails any more.
func (sh *shrinker) each(what string, gen func(Scenario) []Scenario) {
	for sh.runs < sh.budget && sh.accept(what, gen(sh.best)) {
	}
}

// truncate cuts the run short: it keeps the operations invoked before a cut-off time (and
// the faults that start before it), trying cut-offs from the earliest.
func (sh *shrinker) truncate() {
	for sh.runs < sh.budget {
		times := opTimes(sh.best)
		if len(times) < 2 {
			return
		}
		var cands []Scenario
		for k := 1; k < 8; k++ {
			cut := times[len(times)*k/8]
			if c := cutAt(sh.best, cut); c.Ops() < sh.best.Ops() {
				cands = append(cands, c)
			}
		}
		if !sh.accept("cut short", cands) {
			return
		}
	}
}

func opTimes(s Scenario) []sim.Dur {
	var out []sim.Dur
	for _, c := range s.Clients {
		for _, op := range c.Ops {
			out = append(out, op.At)
		}
	}
	slices.Sort(out)
	return out
}

func cutAt(s Scenario, cut sim.Dur) Scenario {
	c := clone(s)
	for i := range c.Clients {
		cl := &c.Clients[i]
		cl.Ops = slices.DeleteFunc(cl.Ops, func(op sim.ScriptOp) bool { return op.At >= cut })
		cl.Done = min(cl.Done, cut)
	}
	c.Steps = slices.DeleteFunc(c.Steps, func(st sim.Step) bool { return st.At >= cut })
	return c
}

// ddmin drops units (delta debugging without the subset tests): the complement of each of
// n chunks, n from 2 up to one unit per chunk. Units refer to the scenario ddmin started
// from; keep builds a scenario from it with only the given units.
func (sh *shrinker) ddmin(what string, units []unit, keep func(Scenario, []unit) Scenario) {
	base := sh.best
	n := 2
	for len(units) >= 1 && sh.runs < sh.budget {
		n = min(n, len(units))
		var cands []Scenario
		var rests [][]unit
		for i := range n {
			lo, hi := i*len(units)/n, (i+1)*len(units)/n
			rest := slices.Concat(units[:lo], units[hi:])
			cands = append(cands, keep(base, rest))
			rests = append(rests, rest)
		}
		if i := sh.first(cands); i >= 0 {
			sh.best = cands[i]
			sh.best.Expect = sh.class
			base.Seed = sh.best.Seed
			units = rests[i]
			sh.logf("drop %s: %s (run %d)", what, size(sh.best), sh.runs)
			n = max(n-1, 2)
			continue
		}
		if n >= len(units) {
			return
		}
		n = min(2*n, len(units))
	}
}

// unit names one operation (client, index) or one step (index) of the scenario it was
// taken from; drop functions remove a set of them, so indices stay valid.
type unit struct{ client, index int }

func opUnits(s Scenario) []unit {
	var out []unit
	for c, cl := range s.Clients {
		for i := range cl.Ops {
			out = append(out, unit{c, i})
		}
	}
	// Interleave by time, so chunks are periods of the run rather than clients.
	slices.SortStableFunc(out, func(a, b unit) int {
		return int(s.Clients[a.client].Ops[a.index].At - s.Clients[b.client].Ops[b.index].At)
	})
	return out
}

func stepUnits(s Scenario) []unit {
	out := make([]unit, len(s.Steps))
	for i := range out {
		out[i] = unit{-1, i}
	}
	return out
}

// keepOps keeps only the given operations of s.
func keepOps(s Scenario, us []unit) Scenario {
	c := clone(s)
	kept := map[unit]bool{}
	for _, u := range us {
		kept[u] = true
	}
	for ci := range c.Clients {
		var ops []sim.ScriptOp
		for i, op := range s.Clients[ci].Ops {
			if kept[unit{ci, i}] {
				ops = append(ops, op)
			}
		}
		c.Clients[ci].Ops = ops
	}
	return c
}

// keepSteps keeps only the given fault steps of s.
func keepSteps(s Scenario, us []unit) Scenario {
	c := clone(s)
	c.Steps = nil
	for _, u := range us {
		c.Steps = append(c.Steps, s.Steps[u.index])
	}
	slices.SortStableFunc(c.Steps, func(a, b sim.Step) int { return int(a.At - b.At) })
	return c
}

// kindCands drops every fault step of one kind.
func kindCands(s Scenario) []Scenario {
	var kinds []string
	for _, st := range s.Steps {
		if !slices.Contains(kinds, st.Kind) {
			kinds = append(kinds, st.Kind)
		}
	}
	if len(kinds) < 2 {
		return nil
	}
	var out []Scenario
	for _, k := range kinds {
		c := clone(s)
		c.Steps = slices.DeleteFunc(c.Steps, func(st sim.Step) bool { return st.Kind == k })
		out = append(out, c)
	}
	return out
}

func finalCands(s Scenario) []Scenario {
	var out []Scenario
	for i, cl := range s.Clients {
		if cl.Final != nil {
			c := clone(s)
			c.Clients[i].Final = nil
			out = append(out, c)
		}
	}
	return out
}

// clientCands removes one client (only the last one in the all workload, whose clients
// alternate between kv and lock by position).
func clientCands(s Scenario) []Scenario {
	if len(s.Clients) <= 1 {
		return nil
	}
	var out []Scenario
	for i := range s.Clients {
		if s.Workload == "all" && i != len(s.Clients)-1 {
			continue
		}
		c := clone(s)
		c.Clients = slices.Delete(c.Clients, i, i+1)
		out = append(out, c)
	}
	return out
}

// serverCands removes the highest-numbered member, with the faults that name it. The
// nodes numbered after it (a workload's spare servers, then the clients) move down by one,
// as they do in the smaller system.
func serverCands(s Scenario) []Scenario {
	if s.Nodes <= 1 || s.Workload == "register" && s.Nodes <= 3 {
		return nil
	}
	c := clone(s)
	c.Nodes--
	gone := sim.NodeID(s.Nodes)
	renumber := func(id sim.NodeID) sim.NodeID {
		if id > gone {
			return id - 1
		}
		return id
	}
	c.Steps = slices.DeleteFunc(c.Steps, func(st sim.Step) bool { return st.Node == gone })
	for i := range c.Steps {
		st := &c.Steps[i]
		st.Cut = slices.DeleteFunc(st.Cut, func(l [2]sim.NodeID) bool { return l[0] == gone || l[1] == gone })
		st.Node = renumber(st.Node)
		for j := range st.Cut {
			st.Cut[j] = [2]sim.NodeID{renumber(st.Cut[j][0]), renumber(st.Cut[j][1])}
		}
	}
	c.Steps = slices.DeleteFunc(c.Steps, func(st sim.Step) bool { return st.Kind == sim.StepPartition && len(st.Cut) == 0 })
	c.Halts = slices.DeleteFunc(c.Halts, func(h sim.HaltRestart) bool { return h.Node == gone })
	for i := range c.Halts {
		c.Halts[i].Node = renumber(c.Halts[i].Node)
	}
	return []Scenario{c}
}

// widenWithin is how late a widened point-tied step may fire after its time.
const widenWithin = sim.Dur(500 * time.Millisecond)

// widenCands lets every point-tied step (crash-point, fault-point, syncfail) fire at its
// node's first reach of the point within widenWithin of its time (see sim.Step.Within).
// The recorded run is unchanged, since each step still fires at its exact reach; but once
// another fault is gone or the seed differs, the step fires at the same moment of the
// protocol (the first vote after 100ms) instead of silently at none.
func widenCands(s Scenario) []Scenario {
	c := clone(s)
	changed := false
	for i, st := range c.Steps {
		if pointTied(st.Kind) && st.Within < widenWithin {
			c.Steps[i].Within, changed = widenWithin, true
		}
	}
	if !changed {
		return nil
	}
	return []Scenario{c}
}

func pointTied(kind string) bool {
	return kind == sim.StepCrashPoint || kind == sim.StepFaultPoint || kind == sim.StepSyncFail
}

// mergeCands joins two windows of one kind on one node (or two partitions with the same
// cut) into one from the first's start to the second's end: one fault fewer, and often
// the same effect, since what mattered was that the node was gone (or cut off) then.
func mergeCands(s Scenario) []Scenario {
	var out []Scenario
	for i, a := range s.Steps {
		if a.End == 0 || a.Kind != sim.StepCrash && a.Kind != sim.StepPause && a.Kind != sim.StepPartition {
			continue
		}
		for j := i + 1; j < len(s.Steps); j++ {
			b := s.Steps[j]
			if b.Kind != a.Kind || b.Node != a.Node || !slices.Equal(b.Cut, a.Cut) {
				continue
			}
			if b.End > a.End {
				c := clone(s)
				c.Steps[i].End = b.End
				c.Steps = slices.Delete(c.Steps, j, j+1)
				out = append(out, c)
			}
			break
		}
	}
	return out
}

// shortenCands halves fault windows and turns off parts of link faults and bitrot.
func shortenCands(s Scenario) []Scenario {
	var out []Scenario
	for i, st := range s.Steps {
		if st.End > st.At+sim.Dur(1e6) {
			c := clone(s)
			c.Steps[i].End = st.At + (st.End-st.At)/2
			out = append(out, c)
		}
		if st.Rot {
			c := clone(s)
			c.Steps[i].Rot = false
			out = append(out, c)
		}
		if l := st.Link; l != nil {
			for _, zero := range []func(*sim.LinkFaults) *float64{
				func(l *sim.LinkFaults) *float64 { return &l.Drop },
				func(l *sim.LinkFaults) *float64 { return &l.Duplicate },
				func(l *sim.LinkFaults) *float64 { return &l.Reorder },
				func(l *sim.LinkFaults) *float64 { return &l.Delay },
			} {
				if *zero(l) != 0 {
					c := clone(s)
					*zero(c.Steps[i].Link) = 0
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// leftoverCands drops what the script kept only to replay its seed exactly.
func leftoverCands(s Scenario) []Scenario {
	var out []Scenario
	if s.SyncFailDraws != 0 {
		c := clone(s)
		c.SyncFailDraws = 0
		out = append(out, c)
	}
	late := false
	for _, cl := range s.Clients {
		late = late || cl.Done != 0
	}
	if late {
		c := clone(s)
		for i := range c.Clients {
			c.Clients[i].Done = 0
		}
		out = append(out, c)
	}
	return out
}

// clone copies a scenario deeply enough that candidates never share slices.
func clone(s Scenario) Scenario {
	c := s
	c.Bugs = slices.Clone(s.Bugs)
	c.Clients = make([]sim.ClientScript, len(s.Clients))
	for i, cl := range s.Clients {
		c.Clients[i] = sim.ClientScript{Ops: slices.Clone(cl.Ops), Done: cl.Done}
		if cl.Final != nil {
			f := *cl.Final
			c.Clients[i].Final = &f
		}
	}
	c.Steps = make([]sim.Step, len(s.Steps))
	for i, st := range s.Steps {
		st.Cut = slices.Clone(st.Cut)
		if st.Link != nil {
			l := *st.Link
			st.Link = &l
		}
		c.Steps[i] = st
	}
	c.Halts = slices.Clone(s.Halts)
	return c
}
