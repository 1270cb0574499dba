package fleet

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Job is what the scheduler knows of a unit the engine places (not a global one).
type Job struct {
	Name    string
	Fleet   Constraints
	Target  State  // inactive units leave their machine
	Machine string // where it is scheduled now; "" if nowhere
}

// Move is one decision of a pass: a unit leaving Machine (Unschedule), going to Machine
// (Schedule), or fitting nowhere (Unschedulable, Machine empty); Reason says why.
type Move struct {
	Unit, Machine, Reason string
}

func (m Move) String() string {
	if m.Machine == "" {
		return m.Unit + ": " + m.Reason
	}
	return fmt.Sprintf("%s on %s: %s", m.Unit, m.Machine, m.Reason)
}

// Plan is what one engine pass decides, every list sorted by unit name.
type Plan struct {
	Unschedule    []Move
	Schedule      []Move
	Unschedulable []Move
}

// Schedule decides one engine pass, as a pure function of the live machines, the jobs and
// the global units (which the engine does not place, but which run on every machine whose
// metadata they match and so take part in conflicts and use capacity there).
//
// First every scheduled job that may no longer stay is unscheduled: its target is
// inactive, its machine is gone, or its constraints no longer hold there (checked in name
// order, so of two conflicting units the first keeps its place). Then every wanted job
// that is not scheduled goes to the eligible machine with the fewest jobs, ties to the
// lower machine ID; a job placed with MachineOf waits for the units it follows. A job no
// machine takes is reported with the reason each machine refused it.
func Schedule(machines []Machine, jobs []Job, globals []Job) Plan {
	s := newState(machines, globals)
	jobs = slices.Clone(jobs)
	slices.SortFunc(jobs, func(a, b Job) int { return cmp.Compare(a.Name, b.Name) })
	var plan Plan
	var waiting []Job
	evict := map[string]string{} // unit -> the replacer on its machine
	for _, j := range jobs {
		if _, live := s.byID[j.Machine]; live && j.Target != Inactive {
			s.where[j.Name] = j.Machine // for MachineOf, whatever the name order
			for _, x := range j.Fleet.Replaces {
				evict[x+"@"+j.Machine] = j.Name
			}
		}
	}
	leave := func(j Job, reason string) {
		plan.Unschedule = append(plan.Unschedule, Move{Unit: j.Name, Machine: j.Machine, Reason: reason})
		delete(s.where, j.Name)
		if j.Target != Inactive {
			j.Machine = ""
			waiting = append(waiting, j)
		}
	}
	for _, j := range jobs {
		if j.Machine == "" {
			if j.Target != Inactive {
				waiting = append(waiting, j)
			}
			continue
		}
		m, live := s.byID[j.Machine]
		reason := ""
		switch {
		case j.Target == Inactive:
			reason = "target state is inactive"
		case !live:
			reason = "machine is gone"
		case evict[j.Name+"@"+j.Machine] != "":
			reason = "replaced by " + evict[j.Name+"@"+j.Machine]
		default:
			reason = s.refuses(j, m)
		}
		if reason == "" {
			s.add(j, m)
			continue
		}
		leave(j, reason)
	}
	// A follower stays only where the unit it follows stayed.
	for moved := true; moved; {
		moved = false
		for _, p := range s.machines {
			for _, j := range slices.Clone(p.units) {
				if reason := s.strayFollower(j, p); reason != "" {
					s.remove(j, p)
					leave(j, reason)
					moved = true
				}
			}
		}
	}
	// Place replacers first, then in name order, over again while a round places
	// something: a MachineOf follower may sort before the unit it follows, and a replaced
	// unit looks for a new machine.
	for progress := true; progress && len(waiting) > 0; {
		progress = false
		slices.SortStableFunc(waiting, func(a, b Job) int { return cmp.Compare(notReplacer(a), notReplacer(b)) })
		round := waiting
		waiting = nil
		for _, j := range round {
			m, ok := s.best(j)
			if !ok {
				waiting = append(waiting, j)
				continue
			}
			s.add(j, m)
			plan.Schedule = append(plan.Schedule, Move{Unit: j.Name, Machine: m.ID, Reason: "least loaded eligible machine"})
			progress = true
			for _, u := range slices.Clone(m.units) {
				if !slices.Contains(j.Fleet.Replaces, u.Name) || u.Fleet.Global {
					continue
				}
				s.remove(u, m)
				if i := slices.IndexFunc(plan.Schedule, func(mv Move) bool { return mv.Unit == u.Name }); i >= 0 {
					plan.Schedule = slices.Delete(plan.Schedule, i, i+1)
					waiting = append(waiting, u)
				} else {
					u.Machine = m.ID
					leave(u, "replaced by "+j.Name)
				}
			}
		}
	}
	slices.SortFunc(plan.Unschedule, func(a, b Move) int { return cmp.Compare(a.Unit, b.Unit) })
	for _, j := range waiting {
		plan.Unschedulable = append(plan.Unschedulable, Move{Unit: j.Name, Reason: s.whyNowhere(j)})
	}
	slices.SortFunc(plan.Schedule, func(a, b Move) int { return cmp.Compare(a.Unit, b.Unit) })
	return plan
}

// state is the placement a pass builds up: what each live machine holds.
type state struct {
	machines []*placed // sorted by ID
	byID     map[string]*placed
	where    map[string]string // job name -> machine ID
	// byLoad[k] holds the machines with k jobs, sorted by ID: best walks it in order and
	// takes the first machine that accepts, which is usually the first it looks at.
	byLoad [][]*placed
}

type placed struct {
	Machine
	units       []Job // jobs placed here and the globals running here
	jobs        int   // how many of units are jobs: the load
	picky       int   // how many of units have Conflicts or Replaces
	cpu, memory int64
}

func newState(machines []Machine, globals []Job) *state {
	s := &state{byID: map[string]*placed{}, where: map[string]string{}}
	for _, m := range machines {
		p := &placed{Machine: m}
		s.machines = append(s.machines, p)
		s.byID[m.ID] = p
	}
	slices.SortFunc(s.machines, byID)
	s.byLoad = [][]*placed{slices.Clone(s.machines)}
	globals = slices.Clone(globals)
	slices.SortFunc(globals, func(a, b Job) int { return cmp.Compare(a.Name, b.Name) })
	for _, p := range s.machines {
		for _, g := range globals {
			if g.Target != Inactive && MatchesMetadata(p.Metadata, g.Fleet.Metadata) {
				p.units = append(p.units, g)
				p.picky += picky(g)
				p.cpu += g.Fleet.MilliCPU
				p.memory += g.Fleet.Memory
			}
		}
	}
	return s
}

func (s *state) add(j Job, p *placed) {
	p.units = append(p.units, j)
	s.setLoad(p, p.jobs+1)
	p.picky += picky(j)
	p.cpu += j.Fleet.MilliCPU
	p.memory += j.Fleet.Memory
	s.where[j.Name] = p.ID
}

func (s *state) remove(j Job, p *placed) {
	p.units = slices.DeleteFunc(p.units, func(u Job) bool { return u.Name == j.Name })
	s.setLoad(p, p.jobs-1)
	p.picky -= picky(j)
	p.cpu -= j.Fleet.MilliCPU
	p.memory -= j.Fleet.Memory
	delete(s.where, j.Name)
}

// strayFollower says why a job placed on p must leave because a unit it follows with
// MachineOf is not there, or "" (globals follow nobody).
func (s *state) strayFollower(j Job, p *placed) string {
	if j.Fleet.Global {
		return ""
	}
	for _, of := range j.Fleet.MachineOf {
		if s.where[of] != p.ID {
			return "MachineOf=" + of + " (it left " + p.ID + ")"
		}
	}
	return ""
}

func picky(j Job) int {
	if len(j.Fleet.Conflicts) > 0 || len(j.Fleet.Replaces) > 0 {
		return 1
	}
	return 0
}

func notReplacer(j Job) int {
	if len(j.Fleet.Replaces) > 0 {
		return 0
	}
	return 1
}

func byID(a, b *placed) int { return cmp.Compare(a.ID, b.ID) }

// setLoad moves p to the bucket of machines with k jobs.
func (s *state) setLoad(p *placed, k int) {
	if i, ok := slices.BinarySearchFunc(s.byLoad[p.jobs], p, byID); ok {
		s.byLoad[p.jobs] = slices.Delete(s.byLoad[p.jobs], i, i+1)
	}
	for len(s.byLoad) <= k {
		s.byLoad = append(s.byLoad, nil)
	}
	i, _ := slices.BinarySearchFunc(s.byLoad[k], p, byID)
	s.byLoad[k] = slices.Insert(s.byLoad[k], i, p)
	p.jobs = k
}

// best is the least loaded machine that takes j, ties to the lower ID.
func (s *state) best(j Job) (*placed, bool) {
	for _, bucket := range s.byLoad {
		for _, p := range bucket {
			if s.refuses(j, p) == "" {
				return p, true
			}
		}
	}
	return nil, false
}

// refuses says why machine p cannot take job j now, or "" if it can.
func (s *state) refuses(j Job, p *placed) string {
	c := j.Fleet
	if c.MachineID != "" && c.MachineID != p.ID {
		return "MachineID=" + c.MachineID
	}
	if !MatchesMetadata(p.Metadata, c.Metadata) {
		return "MachineMetadata " + metadataString(c.Metadata)
	}
	for _, of := range c.MachineOf {
		if at, ok := s.where[of]; !ok {
			return "MachineOf=" + of + " (not scheduled)"
		} else if at != p.ID {
			return "MachineOf=" + of + " (on " + at + ")"
		}
	}
	for _, u := range p.units {
		if len(c.Conflicts) == 0 && p.picky == 0 {
			break // nothing here can refuse j by name: the common case, kept cheap
		}
		if u.Name == j.Name {
			continue
		}
		if Conflict(j.Name, c, u.Name, u.Fleet) {
			return "conflicts with " + u.Name
		}
		if slices.Contains(u.Fleet.Replaces, j.Name) {
			return "replaced by " + u.Name
		}
	}
	if p.MilliCPU > 0 && p.cpu+c.MilliCPU > p.MilliCPU {
		return fmt.Sprintf("X-Orrery-CPU=%dm, %dm of %dm free", c.MilliCPU, max(p.MilliCPU-p.cpu, 0), p.MilliCPU)
	}
	if p.Memory > 0 && p.memory+c.Memory > p.Memory {
		return fmt.Sprintf("X-Orrery-Memory=%d, %d of %d bytes free", c.Memory, max(p.Memory-p.memory, 0), p.Memory)
	}
	return ""
}

// whyNowhere lists, for a job no machine takes, each reason with the machines it
// refused: "no machine fits: MachineMetadata disk=ssd (m1, m2); conflicts with a.service (m3)".
func (s *state) whyNowhere(j Job) string {
	if len(s.machines) == 0 {
		return "no machine is up"
	}
	var order []string
	by := map[string][]string{}
	for _, p := range s.machines {
		r := s.refuses(j, p)
		if _, ok := by[r]; !ok {
			order = append(order, r)
		}
		by[r] = append(by[r], p.ID)
	}
	parts := make([]string, len(order))
	for i, r := range order {
		parts[i] = fmt.Sprintf("%s (%s)", r, strings.Join(by[r], ", "))
	}
	return "no machine fits: " + strings.Join(parts, "; ")
}

// MatchesMetadata reports whether a machine's metadata satisfies MachineMetadata: for
// every key, the machine's value is one of those listed.
func MatchesMetadata(have map[string]string, want map[string][]string) bool {
	for k, vs := range want { //det:unordered every key must match: the answer is the same in any order
		v, ok := have[k]
		if !ok || !slices.Contains(vs, v) {
			return false
		}
	}
	return true
}

func metadataString(want map[string][]string) string {
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strings.Join(want[k], "|")
	}
	return strings.Join(parts, " ")
}

// Conflict reports whether two units may not share a machine: either one's Conflicts
// globs match the other's name.
func Conflict(a string, ac Constraints, b string, bc Constraints) bool {
	return matchesAny(ac.Conflicts, b) || matchesAny(bc.Conflicts, a)
}

func matchesAny(globs []string, name string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, name); ok { // globs were checked when the unit was parsed
			return true
		}
	}
	return false
}
