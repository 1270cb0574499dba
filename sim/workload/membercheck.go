package workload

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orrery/orrery/checker/history"
	"github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/raft"
	"github.com/orrery/orrery/node/rsm"
	"github.com/orrery/orrery/sim"
)

// checkMembers checks a members run beyond the kv model:
//   - applied tables: every server that applies the membership change at index i applies
//     the same table there, and each table follows from the one before by exactly one
//     change (so at most one change was ever in flight), starting from the initial one;
//   - the admin's results: its operations are totally ordered (one client), so a
//     sequential model of the tables the cluster could hold checks each of them: an
//     accepted change returns a table that follows from one of them, a refusal fits one,
//     a read returns one; an unknown outcome adds the tables it could have made;
//   - completeness: every accepted change's table was applied by some server, and the
//     final read returns the last table applied;
//   - a removed member applies no entry after the one that removed it;
//   - every membership entry a server applies changes its table: the server reports the
//     table at that index (a change raft acted on but the member table missed would leave
//     the admin's changes unanswered, which the admin can only record as unknown).
func checkMembers(res sim.Result, initial table) error {
	if err := checkConfApplied(res.Observations); err != nil {
		return err
	}
	applied, err := appliedTables(res.Observations, initial)
	if err != nil {
		return err
	}
	if err := checkAdmin(res.History, initial, applied); err != nil {
		return err
	}
	return checkRemovedIdle(res.Observations, applied, initial)
}

// appliedTable is the member table the servers applied at a log index, and when the
// first of them did.
type appliedTable struct {
	index uint64
	t     table
	at    time.Duration
}

// appliedTables returns the tables applied, by index, checking agreement and single
// steps.
func appliedTables(obs []sim.Observation, initial table) ([]appliedTable, error) {
	byIndex := map[uint64]table{}
	where := map[uint64]sim.Observation{}
	for _, o := range obs {
		mc, ok := o.Notice.(rsm.MembersChanged)
		if !ok {
			continue
		}
		t := tableOf(mc.Members)
		if prev, seen := byIndex[mc.Index]; seen && prev.String() != t.String() {
			p := where[mc.Index]
			return nil, fmt.Errorf("the membership change at index %d applied as {%s} by %s (incarnation %d, at %v) but as {%s} by %s (incarnation %d, at %v)",
				mc.Index, prev, p.Node, p.Incarnation, p.At, t, o.Node, o.Incarnation, o.At)
		}
		if _, seen := byIndex[mc.Index]; !seen {
			byIndex[mc.Index], where[mc.Index] = t, o
		}
	}
	var out []appliedTable
	//det:unordered sorted below
	for i, t := range byIndex {
		out = append(out, appliedTable{index: i, t: t, at: where[i].At})
	}
	slices.SortFunc(out, func(a, b appliedTable) int { return cmp.Compare(a.index, b.index) })
	prev := initial
	for _, a := range out {
		if !oneStep(prev, a.t) {
			o := where[a.index]
			return nil, fmt.Errorf("the membership change at index %d (applied by %s at %v) made the table {%s} from {%s}: not a single change, so two were in flight or one was computed from a stale table",
				a.index, o.Node, o.At, a.t, prev)
		}
		prev = a.t
	}
	return out, nil
}

// adminOp is one of the admin's operations as its completion describes it.
type adminOp struct {
	op     history.Op
	kind   string
	target uint64
	result string // ok, fail, info
	detail string // the table (ok) or the refusal (fail)
}

func parseAdminOp(op history.Op) (adminOp, bool, error) {
	a := adminOp{op: op}
	s, ok := op.Output.Str()
	if !ok {
		return a, false, nil // the world timed it out: what it attempted is unknown
	}
	f := strings.SplitN(s, " ", 4)
	if len(f) < 3 {
		return a, false, fmt.Errorf("malformed admin completion %q", s)
	}
	target, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return a, false, fmt.Errorf("malformed admin completion %q", s)
	}
	a.kind, a.target, a.result = f[0], target, f[2]
	if len(f) == 4 {
		a.detail = f[3]
	}
	return a, true, nil
}

// checkAdmin checks the admin's operations against the applied tables. The log order of
// the changes is their linearization order and the first apply anywhere comes after the
// commit, so an operation invoked after index j was first applied must see j or later,
// and one that returned has seen at most the indices first applied by then:
//   - an accepted change is the step made at one index (the table before it, with the
//     change, gives the table it returned), first applied after its invocation and by its
//     return, each index claimed by one operation;
//   - a read returns the table of an index in its window; a refusal fits one (a pending
//     change always may);
//   - every step applied is some admin operation that was accepted, ended unknown or was
//     refused (a copy of a refused request that the network delivered late may still make
//     its change: refusals are not recorded in the session table); a change nobody asked
//     for, or an accepted one run twice by a copy, is a bug;
//   - the final read returns the last table applied.
func checkAdmin(events []history.Event, initial table, applied []appliedTable) error {
	ops, err := history.Pair(events)
	if err != nil {
		return err
	}
	steps := append([]appliedTable{{t: initial}}, applied...)
	// window returns the range of step positions an operation may have seen.
	window := func(call, ret int64) (lo, hi int) {
		for i, st := range steps[1:] {
			if int64(st.at) < call {
				lo = i + 1
			}
			if int64(st.at) <= ret {
				hi = i + 1
			}
		}
		return lo, hi
	}
	claimed := map[int]bool{}
	var unknown []adminOp // ended unknown: may have made any later step
	var final *adminOp
	for _, op := range ops {
		if op.F != opMember && op.F != opMembers {
			continue
		}
		a, described, err := parseAdminOp(op)
		if err != nil {
			return err
		}
		if !described {
			if op.F == opMember {
				unknown = append(unknown, adminOp{op: op, kind: "any"})
			}
			continue
		}
		where := fmt.Sprintf("admin %s %d (process %d, invoked at %d)", a.kind, a.target, op.Process, op.Call)
		lo, hi := window(op.Call, op.Return)
		switch {
		case a.result == "info":
			unknown = append(unknown, a)
		case a.result == "ok" && a.kind == opMembers:
			if !slices.ContainsFunc(steps[lo:hi+1], func(st appliedTable) bool { return st.t.String() == a.detail }) {
				return fmt.Errorf("%s: read the table {%s}; the cluster held %s meanwhile", where, a.detail, tablesOf(steps[lo:hi+1]))
			}
			if op.F == opMembers {
				final = &a
			}
		case a.result == "ok":
			i := slices.IndexFunc(steps, func(st appliedTable) bool {
				return st.index != 0 && st.t.String() == a.detail && int64(st.at) >= op.Call && int64(st.at) <= op.Return
			})
			if i < 0 {
				return fmt.Errorf("%s: acknowledged with table {%s}, which no server applied while it ran", where, a.detail)
			}
			if kind, target := stepBetween(steps[i-1].t, steps[i].t); kind != a.kind || target != a.target {
				return fmt.Errorf("%s: acknowledged, but the change at index %d was %s %d", where, steps[i].index, kind, target)
			}
			if claimed[i] {
				return fmt.Errorf("%s: acknowledged with the change at index %d, which another operation claimed", where, steps[i].index)
			}
			claimed[i] = true
		case a.result == "fail":
			// Definite for the copy answered, not for one still in the network: a
			// duplicated request delivered later may make the change after all.
			unknown = append(unknown, a)
			if !slices.ContainsFunc(steps[lo:hi+1], func(st appliedTable) bool { return st.t.refusalFits(a.kind, a.target, a.detail) }) {
				return fmt.Errorf("%s: refused (%s), which fits none of the tables the cluster held meanwhile: %s", where, a.detail, tablesOf(steps[lo:hi+1]))
			}
		default:
			return fmt.Errorf("%s: unknown result %q", where, a.result)
		}
	}
	for i := 1; i < len(steps); i++ {
		if claimed[i] {
			continue
		}
		kind, target := stepBetween(steps[i-1].t, steps[i].t)
		j := slices.IndexFunc(unknown, func(a adminOp) bool {
			return (a.kind == "any" || a.kind == kind && a.target == target) && int64(steps[i].at) >= a.op.Call
		})
		if j < 0 {
			return fmt.Errorf("the change at index %d (%s %d, first applied at %v) was asked for by no operation that may have made it", steps[i].index, kind, target, steps[i].at)
		}
		unknown = slices.Delete(unknown, j, j+1)
	}
	last := steps[len(steps)-1].t
	if final != nil && final.detail != last.String() {
		return fmt.Errorf("the admin's final read returned {%s}, but the last table applied is {%s}", final.detail, last)
	}
	return nil
}

func tablesOf(steps []appliedTable) string {
	var out []string
	for _, st := range steps {
		out = append(out, "{"+st.t.String()+"}")
	}
	return strings.Join(out, " then ")
}

// stepBetween names the single change that makes b from a.
func stepBetween(a, b table) (string, uint64) {
	for _, id := range b.ids() {
		learner, in := a[id]
		switch {
		case !in && b[id]:
			return "add", id
		case !in || learner && !b[id]:
			return "promote", id
		}
	}
	for _, id := range a.ids() {
		if _, in := b[id]; !in {
			return "remove", id
		}
	}
	return "none", 0
}

// checkConfApplied checks that each membership entry a process applies (its "apply"
// observation, "INDEX t=TERM type=TYPE ...") is followed, in the same step, by that
// process's table at that index.
func checkConfApplied(obs []sim.Observation) error {
	confType := fmt.Sprintf(" type=%d ", raft.EntryConfChange)
	for i, o := range obs {
		if o.Kind != "apply" || !strings.Contains(o.Value, confType) {
			continue
		}
		idx, _, _ := strings.Cut(o.Value, " ")
		at, err := strconv.ParseUint(idx, 10, 64)
		if err != nil {
			return fmt.Errorf("malformed apply observation %q", o.Value)
		}
		found := false
		for _, p := range obs[i+1:] {
			if p.At != o.At {
				break // observations come in time order; the table comes in the same step
			}
			if p.Node != o.Node || p.Incarnation != o.Incarnation {
				continue
			}
			if mc, ok := p.Notice.(rsm.MembersChanged); ok && mc.Index == at {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("%s applied the membership entry at index %d (incarnation %d, at %v) but reported no member table for it", o.Node, at, o.Incarnation, o.At)
		}
	}
	return nil
}

// checkRemovedIdle checks that no member applies an entry after its own removal.
func checkRemovedIdle(obs []sim.Observation, applied []appliedTable, initial table) error {
	removedAt := map[component.NodeID]uint64{}
	prev := initial
	for _, a := range applied {
		for _, id := range prev.ids() {
			if _, in := a.t[id]; !in {
				removedAt[component.NodeID(id)] = a.index
			}
		}
		prev = a.t
	}
	var errs []error
	for _, o := range obs {
		at, removed := removedAt[o.Node]
		if o.Kind != "apply" || !removed {
			continue
		}
		idx, _, _ := strings.Cut(o.Value, " ")
		i, err := strconv.ParseUint(idx, 10, 64)
		if err != nil {
			return fmt.Errorf("malformed apply observation %q", o.Value)
		}
		if i > at {
			errs = append(errs, fmt.Errorf("%s applied entry %d (incarnation %d, at %v) after its removal at index %d", o.Node, i, o.Incarnation, o.At, at))
			break
		}
	}
	return errors.Join(errs...)
}
