package checker

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// maxReported bounds how many keys a Violation describes; IllegalKeys has
// them all.
const maxReported = 5

// explainer turns porcupine's partial linearizations into a Violation.
type explainer struct {
	model    porcupine.Model
	parts    [][]porcupine.Operation // partition i holds the ops of keys[i]
	keys     []string
	partials [][][]int // porcupine's partial linearizations, per partition
	// recheck > 0 means porcupine may have been stopped by its timeout, so
	// an unfinished key is not necessarily illegal: recheck each one on its
	// own, all within this budget.
	recheck time.Duration
}

// explain returns the illegal keys (sorted, as keys is) and the text.
func (e explainer) explain() ([]string, string) {
	deadline := time.Now().Add(e.recheck)
	var illegal, lines []string
	for i, key := range e.keys {
		switch verdict, best := e.decide(i, deadline); verdict {
		case porcupine.Illegal:
			illegal = append(illegal, key)
			lines = append(lines, e.describeKey(key, e.parts[i], best))
		case porcupine.Unknown:
			lines = append(lines, fmt.Sprintf("key %q: undecided (timed out)", key))
		}
	}
	return illegal, summarize(lines)
}

// decide returns the verdict for partition i and its longest partial
// linearization.
func (e explainer) decide(i int, deadline time.Time) (porcupine.CheckResult, []int) {
	best := longest(e.partials[i])
	switch {
	case len(best) == len(e.parts[i]):
		return porcupine.Ok, best
	case e.recheck <= 0:
		return porcupine.Illegal, best
	}
	verdict, partials := recheck(e.model, e.parts[i], deadline)
	return verdict, longest(partials)
}

// recheck checks one key's ops on their own, returning its verdict and
// partial linearizations.
func recheck(model porcupine.Model, ops []porcupine.Operation, deadline time.Time) (porcupine.CheckResult, [][]int) {
	left := time.Until(deadline)
	if left <= 0 {
		return porcupine.Unknown, nil // a zero timeout would mean "no limit"
	}
	verdict, info := porcupine.CheckOperationsVerbose(model, ops, left)
	if partials := info.PartialLinearizations(); len(partials) == 1 {
		return verdict, partials[0]
	}
	return verdict, nil
}

func summarize(lines []string) string {
	if len(lines) > maxReported {
		more := len(lines) - maxReported
		lines = append(lines[:maxReported:maxReported], fmt.Sprintf("... and %d more keys", more))
	}
	return strings.Join(lines, "\n")
}

// longest picks the longest partial linearization; porcupine returns them
// in map order, so ties go to the lexicographically smallest to keep the
// report deterministic.
func longest(partials [][]int) []int {
	var best []int
	for _, p := range partials {
		if len(p) > len(best) || (len(p) == len(best) && slices.Compare(p, best) < 0) {
			best = p
		}
	}
	return best
}

func (e explainer) describeKey(key string, ops []porcupine.Operation, prefix []int) string {
	state := e.model.Init()
	placed := make([]bool, len(ops))
	for _, id := range prefix {
		_, state = e.model.Step(state, ops[id].Input, ops[id].Output)
		placed[id] = true
	}
	return fmt.Sprintf("key %q: no linearization; longest linearizable prefix has %d of %d ops; %s (state was %s)",
		key, len(prefix), len(ops), e.stuck(ops, placed, state), stateText(state))
}

// stateText renders a model state for a report: a value, or {key="value", ...}.
func stateText(state any) string {
	if st, ok := state.(kvState); ok {
		return describeKVState(st, quoted)
	}
	return quoted(state.(regValue))
}

// stuck names the op that could not follow the longest prefix: among the
// ops that could come next (invoked before the earliest pending return),
// the first, by return time, that the model rejects in the current state.
// If each of them fits but leads nowhere, it names the earliest pending op.
func (e explainer) stuck(ops []porcupine.Operation, placed []bool, state any) string {
	var pending []int
	for id := range ops {
		if !placed[id] {
			pending = append(pending, id)
		}
	}
	slices.SortFunc(pending, func(a, b int) int {
		return cmp.Or(cmp.Compare(ops[a].Return, ops[b].Return), cmp.Compare(ops[a].Call, ops[b].Call), cmp.Compare(a, b))
	})
	horizon := ops[pending[0]].Return
	for _, id := range pending {
		if ops[id].Call > horizon {
			continue
		}
		if ok, _ := e.model.Step(state, ops[id].Input, ops[id].Output); !ok {
			return "cannot place: " + opText(ops[id])
		}
	}
	return "no order works after it; first pending: " + opText(ops[pending[0]])
}

// opText renders an op for a report: process 4 get k1 -> "v3" [1300, 2200].
func opText(op porcupine.Operation) string {
	in, out := op.Input.(kvInput), op.Output.(kvOutput)
	ret := strconv.FormatInt(op.Return, 10)
	if out.unknown {
		ret = "?" // its return time is made up; see convert
	}
	return fmt.Sprintf("process %d %s [%d, %s]", op.ClientId, describeOp(in, out, quoted), op.Call, ret)
}
