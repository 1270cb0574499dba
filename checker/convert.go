package checker

import (
	"fmt"
	"math"

	"github.com/anishathalye/porcupine"
	"github.com/orrery/orrery/checker/history"
)

// convert turns a history into the operations porcupine checks, applying
// the outcome rules: fail ops are dropped (they did not happen); info gets
// are dropped (reads have no effect, and an unknown read shows nothing); info
// writes, including invokes that never completed, return after every other
// event with an output the model accepts whatever the write did — except
// those whose value nobody ever observed, which are dropped (see unobserved).
// A history with multi-key operations goes through reduceIndefinite instead.
func convert(spec modelSpec, events []history.Event) ([]porcupine.Operation, error) {
	ops, err := collect(spec, events)
	if err != nil {
		return nil, err
	}
	if multiKey(ops) {
		return reduceIndefinite(ops), nil
	}
	return dropUnobserved(ops), nil
}

// dropUnobserved removes indefinite puts and cas whose written value no get
// returned and no cas expected, on that key. Such a write may be assumed never
// to have happened: if some linearization lets it take effect, no read or
// successful cas sits between it and the next write (they would have observed
// its value), so deleting it from that linearization leaves a valid one. The
// converse holds because "never happened" is an allowed outcome of an info op.
// Each indefinite write otherwise stays open until the end of the history, and
// a partitioned cluster produces many of them: without this, porcupine's search
// blows up on exactly the histories faults make interesting.
func dropUnobserved(ops []porcupine.Operation) []porcupine.Operation {
	type kv struct{ key, value string }
	observed := map[kv]bool{}
	for _, op := range ops {
		in, out := op.Input.(kvInput), op.Output.(kvOutput)
		switch {
		case in.f == "get" && !out.unknown && out.value.set:
			observed[kv{in.key, out.value.s}] = true
		case in.f == "cas" && in.expect.set:
			observed[kv{in.key, in.expect.s}] = true
		}
	}
	kept := ops[:0]
	for _, op := range ops {
		in, out := op.Input.(kvInput), op.Output.(kvOutput)
		write := in.f == "put" || in.f == "cas"
		if out.unknown && write && in.value.set && !observed[kv{in.key, in.value.s}] {
			continue
		}
		if out.unknown && in.f == "delete" && !nullSeenAfter(ops, in.key, op.Call) {
			continue
		}
		kept = append(kept, op)
	}
	return kept
}

// nullSeenAfter reports whether anything could have observed an indefinite delete of key
// invoked at call: a get or mget of the key that returned null and ended at or after call,
// or a cas expecting the key to be absent. Only those could sit between the delete and the next
// write in a linearization, so without them the delete can be assumed never to have
// happened, as for unobserved puts.
func nullSeenAfter(ops []porcupine.Operation, key string, call int64) bool {
	for _, op := range ops {
		in, out := op.Input.(kvInput), op.Output.(kvOutput)
		if in.f == "mget" && !out.unknown && op.Return >= call && readsNull(in, out, key) {
			return true
		}
		if in.key != key {
			continue
		}
		if in.f == "get" && !out.unknown && !out.value.set && op.Return >= call {
			return true
		}
		if in.f == "cas" && !in.expect.set {
			return true
		}
	}
	return false
}

// collect converts every operation the model should see.
func collect(spec modelSpec, events []history.Event) ([]porcupine.Operation, error) {
	pairs, err := history.Pair(events)
	if err != nil {
		return nil, fmt.Errorf("checker: %w", err)
	}
	end := afterAll(events)
	var ops []porcupine.Operation
	for _, p := range pairs {
		in, out, err := spec.parse(p)
		if err != nil {
			return nil, fmt.Errorf("%w: event %d (process %d %s): %v", ErrBadOp, p.Event+1, p.Process, p.F, err)
		}
		if p.Outcome == history.Fail || (out.unknown && (in.f == "get" || in.f == "mget")) {
			continue
		}
		ret := p.Return
		if out.unknown {
			ret = end
		}
		ops = append(ops, porcupine.Operation{
			ClientId: p.Process,
			Input:    in,
			Call:     p.Call,
			Output:   out,
			Return:   ret,
			Metadata: tooltip(p),
		})
	}
	return ops, nil
}

// tooltip is shown when hovering over an op in the visualisation: where to
// find it in the history, and why an info op's bar runs to the end.
func tooltip(op history.Op) string {
	s := fmt.Sprintf("history event %d", op.Event+1)
	if op.Outcome == history.Info {
		s += "; outcome unknown, so it may take effect any time after its call"
	}
	return s
}

// afterAll returns a time later than every event (or equal to the last one
// if that is the largest time there is; intervals are closed, so the op is
// still concurrent with everything after its call).
func afterAll(events []history.Event) int64 {
	var last int64
	if n := len(events); n > 0 {
		last = events[n-1].Time // Pair checked that times never decrease
	}
	if last == math.MaxInt64 {
		return last
	}
	return last + 1
}

// parse checks that op is one the model knows and turns it into the model's
// input and output.
func (spec modelSpec) parse(op history.Op) (kvInput, kvOutput, error) {
	in := kvInput{f: op.F, key: op.Key}
	out := kvOutput{unknown: op.Outcome == history.Info}
	if !spec.admits(op.F) {
		return in, out, fmt.Errorf("model %s has no operation %q", spec.name, op.F)
	}
	var err error
	switch op.F {
	case "get":
		if op.Outcome == history.OK {
			out.value, err = regFrom(op.Output)
		}
	case "put":
		if in.value, err = regFrom(op.Input); err == nil && !in.value.set {
			err = fmt.Errorf("put needs a string value, not null")
		}
	case "cas":
		in.expect, in.value, err = casPair(op.Input)
	case "txn", "mget":
		in.key = ""
		err = parseMulti(op, &in, &out)
	}
	return in, out, err
}

// regFrom converts a history value to a register value: a string or null.
func regFrom(v history.Value) (regValue, error) {
	if v.IsNull() {
		return null, nil
	}
	if s, ok := v.Str(); ok {
		return str(s), nil
	}
	return null, fmt.Errorf("value %v is neither a string nor null", v)
}

// casPair reads a cas input: [expected, new].
func casPair(v history.Value) (expect, value regValue, err error) {
	list, ok := v.List()
	if !ok || len(list) != 2 {
		return null, null, fmt.Errorf("cas needs [expected, new], not %v", v)
	}
	if expect, err = regFrom(list[0]); err != nil {
		return null, null, err
	}
	value, err = regFrom(list[1])
	return expect, value, err
}

// readsNull reports whether an mget read key as absent.
func readsNull(in kvInput, out kvOutput, key string) bool {
	for i, p := range in.pairs {
		if p.key == key && !out.values[i].set {
			return true
		}
	}
	return false
}
