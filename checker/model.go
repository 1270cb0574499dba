package checker

import (
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	"github.com/anishathalye/porcupine"
)

// regValue is the state of one key and the payload of an operation: a
// string, or null (absent). It is comparable, so porcupine can use == on
// states.
type regValue struct {
	set bool
	s   string
}

var null = regValue{}

func str(s string) regValue { return regValue{set: true, s: s} }

// kvInput is what an operation asked for.
type kvInput struct {
	f      string   // get, put, cas, delete, txn, mget
	key    string   // single-key operations: the partition
	value  regValue // put: the value written; cas: the new value
	expect regValue // cas: the value compared against
	pairs  []kvPair // txn: the writes; mget: the keys read (values unused); nil otherwise
}

// kvOutput is how an operation ended.
type kvOutput struct {
	value   regValue   // get: the value read
	values  []regValue // mget: the values read, in the order of kvInput.pairs
	unknown bool       // info: may have taken effect, or not
}

// kvStep is the sequential specification of one key, shared by the register
// and kv models (they differ only in which f names they admit). It is pure:
// porcupine replays it while searching and when drawing the visualisation.
func kvStep(state, input, output any) (bool, any) {
	s, in, out := state.(regValue), input.(kvInput), output.(kvOutput)
	switch in.f {
	case "get":
		return out.value == s, s
	case "put":
		return true, in.value
	case "delete":
		return true, null
	case "cas":
		if s == in.expect {
			return true, in.value
		}
		// A cas that found another value changed nothing. That is only
		// consistent with what the client saw if it did not hear back (a
		// definite ok means the comparison held). "Never happened" needs no
		// case of its own: an unknown op returns after every other event,
		// so placing it last is always allowed and has no visible effect.
		return out.unknown, s
	default:
		return false, s // unreachable: convert admits only the names above
	}
}

func hashState(state any) uint64 {
	s := state.(regValue)
	h := fnv.New64a()
	if s.set {
		h.Write([]byte{1})
		h.Write([]byte(s.s))
	}
	return h.Sum64()
}

// newModel builds the porcupine model for one check. Partitioning per key is
// what keeps checks fast: the search is exponential in the concurrency of a
// partition, not of the whole history.
func newModel() porcupine.Model {
	return porcupine.Model{
		Partition: func(ops []porcupine.Operation) [][]porcupine.Operation {
			parts, _ := partitionByKey(ops)
			return parts
		},
		Init:              func() any { return null },
		Step:              kvStep,
		Hash:              hashState,
		DescribeOperation: func(in, out any) string { return describeOp(in.(kvInput), out.(kvOutput), display) },
		DescribeState:     func(state any) string { return display(state.(regValue)) },
	}
}

// partitionByKey splits ops by key, keys sorted so that partition i and its
// key always line up in the check, the report and the visualisation.
func partitionByKey(ops []porcupine.Operation) ([][]porcupine.Operation, []string) {
	byKey := make(map[string][]porcupine.Operation)
	for _, op := range ops {
		key := op.Input.(kvInput).key
		byKey[key] = append(byKey[key], op)
	}
	keys := make([]string, 0, len(byKey))
	for key := range byKey {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	parts := make([][]porcupine.Operation, len(keys))
	for i, key := range keys {
		parts[i] = byKey[key]
	}
	return parts, keys
}

// describeOp renders an operation as "put k1 v5", "get k1 -> v5",
// "cas k1 v5->v6", "delete k1", "txn k1=v5 k2=v6" or "mget k1 k2 -> v5 null",
// with " (unknown)" for info ops.
func describeOp(in kvInput, out kvOutput, val func(regValue) string) string {
	var b strings.Builder
	b.WriteString(in.f)
	if in.key != "" {
		b.WriteString(" " + in.key)
	}
	for _, p := range in.pairs {
		b.WriteString(" " + p.key)
		if in.f == "txn" {
			b.WriteString("=" + val(p.value))
		}
	}
	if in.f == "mget" && !out.unknown {
		b.WriteString(" ->")
		for _, v := range out.values {
			b.WriteString(" " + val(v))
		}
	}
	switch in.f {
	case "get":
		b.WriteString(" -> " + val(out.value))
	case "put":
		b.WriteString(" " + val(in.value))
	case "cas":
		b.WriteString(" " + val(in.expect) + "->" + val(in.value))
	}
	if out.unknown {
		b.WriteString(" (unknown)")
	}
	return b.String()
}

// display renders a value for the visualisation: bare when that is
// unambiguous, quoted when it would be empty or look like null.
func display(v regValue) string {
	if !v.set {
		return "null"
	}
	if q := strconv.Quote(v.s); v.s == "" || v.s == "null" || q[1:len(q)-1] != v.s ||
		strings.Contains(v.s, " ") || strings.Contains(v.s, "->") {
		return q
	}
	return v.s
}

// quoted renders a value for reports, where exactness beats looks.
func quoted(v regValue) string {
	if !v.set {
		return "null"
	}
	return strconv.Quote(v.s)
}
