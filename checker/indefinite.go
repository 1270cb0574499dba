package checker

import (
	"fmt"

	"github.com/anishathalye/porcupine"
)

// reduceIndefinite plays dropUnobserved's part for histories with multi-key operations.
// There a partition holds several keys, so every indefinite write left open until the
// end of the history is concurrent with all of them, and each one doubles porcupine's
// search. Both steps below keep the verdict exact.
//
//  1. Drop every indefinite put, cas and txn none of whose written values is observed,
//     where a value is observed when a definite operation read it (a get, an mget, an ok
//     cas's expectation) or a kept indefinite cas expected it. Take any valid
//     linearization and first move each kept indefinite cas that did nothing to the end
//     (its return is the end of the history; step 2 pins only writes that must have
//     applied), where it affects nobody. Then no remaining operation reads a dropped
//     write's value (it would have been observed), so removing the dropped writes changes
//     nothing a remaining operation sees, and the rest stays valid. Conversely "never
//     happened" is an allowed outcome of each of them. Indefinite deletes stay if a null
//     read could follow them, as in dropUnobserved.
//  2. An indefinite write of a (key, value) that no other operation writes, read by a
//     definite operation, took effect before that read: in every valid linearization it
//     precedes the read, which is placed by the read's return. So its return moves from
//     the end of the history to the earliest such read's return.
func reduceIndefinite(ops []porcupine.Operation) []porcupine.Operation {
	writers := map[kvPair][]int{} // (key, value) -> the ops writing it
	readAt := map[kvPair]int64{}  // (key, value) -> earliest return of a definite op reading it
	for i, op := range ops {
		in, out := op.Input.(kvInput), op.Output.(kvOutput)
		for _, w := range writes(in) {
			writers[w] = append(writers[w], i)
		}
		if out.unknown {
			continue
		}
		for _, r := range reads(in, out) {
			if t, ok := readAt[r]; !ok || op.Return < t {
				readAt[r] = op.Return
			}
		}
	}
	keep := keptWrites(ops, writers, readAt)
	var out []porcupine.Operation
	for i, op := range ops {
		in, o := op.Input.(kvInput), op.Output.(kvOutput)
		switch {
		case !o.unknown:
		case in.f == "delete":
			if !nullSeenAfter(ops, in.key, op.Call) {
				continue
			}
		case !keep[i]:
			continue
		default:
			op = pin(op, writers, readAt)
		}
		out = append(out, op)
	}
	return out
}

// keptWrites marks the ops step 1 keeps: it follows observations from the definite reads
// through the expectations of the indefinite cas they keep. The result does not depend on
// the order values are visited in (it is a least fixpoint).
func keptWrites(ops []porcupine.Operation, writers map[kvPair][]int, readAt map[kvPair]int64) []bool {
	keep := make([]bool, len(ops))
	var queue []kvPair
	//det:unordered the fixpoint reached is the same whatever the order
	for r := range readAt {
		queue = append(queue, r)
	}
	visited := map[kvPair]bool{}
	for len(queue) > 0 {
		r := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if visited[r] {
			continue
		}
		visited[r] = true
		for _, i := range writers[r] {
			in := ops[i].Input.(kvInput)
			if !keep[i] && in.f == "cas" && ops[i].Output.(kvOutput).unknown {
				queue = append(queue, kvPair{key: in.key, value: in.expect})
			}
			keep[i] = true
		}
	}
	return keep
}

// pin moves an indefinite write's return to the earliest definite read of a value only it
// wrote (step 2).
func pin(op porcupine.Operation, writers map[kvPair][]int, readAt map[kvPair]int64) porcupine.Operation {
	pinned := false
	for _, w := range writes(op.Input.(kvInput)) {
		t, ok := readAt[w]
		if ok && len(writers[w]) == 1 && t < op.Return {
			op.Return, pinned = max(t, op.Call), true
		}
	}
	if pinned {
		op.Metadata = fmt.Sprintf("%v; a definite read of its value returned at %d, so it took effect by then", op.Metadata, op.Return)
	}
	return op
}

// writes lists the (key, value) pairs an operation writes, deletes excluded.
func writes(in kvInput) []kvPair {
	switch in.f {
	case "put", "cas":
		return []kvPair{{key: in.key, value: in.value}}
	case "txn":
		return in.pairs
	}
	return nil
}

// reads lists the (key, value) pairs a definite operation observed, nulls excluded.
func reads(in kvInput, out kvOutput) []kvPair {
	var rs []kvPair
	switch in.f {
	case "get":
		rs = append(rs, kvPair{key: in.key, value: out.value})
	case "cas":
		rs = append(rs, kvPair{key: in.key, value: in.expect})
	case "mget":
		for i, p := range in.pairs {
			rs = append(rs, kvPair{key: p.key, value: out.values[i]})
		}
	}
	kept := rs[:0]
	for _, r := range rs {
		if r.value.set {
			kept = append(kept, r)
		}
	}
	return kept
}
