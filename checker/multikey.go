package checker

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/anishathalye/porcupine"
	"github.com/orrery/orrery/checker/history"
)

// Multi-key operations of the kv model:
//
//	txn:  value [[key, value], ...]  writes every pair at one instant (distinct keys);
//	      the completion carries the same pairs
//	mget: value [key, ...]           reads every key at one instant; the completion's
//	      value lists what was read, in the same order, null for an absent key
//
// A history with either is checked by a model whose state is every key of a partition,
// the partitions being the connected components of the keys that operations touch
// together: a txn or mget joins its keys, single-key operations join nothing. A history
// without them is checked per key, as before.

// kvPair is one key of a multi-key operation or of a multi-key state.
type kvPair struct {
	key   string
	value regValue
}

// kvState is the state of several keys: the keys that hold a value, sorted, never null.
// It is immutable: with returns a new one.
type kvState []kvPair

func (st kvState) get(key string) regValue {
	if i, ok := slices.BinarySearchFunc(st, key, byKey); ok {
		return st[i].value
	}
	return null
}

// with returns st with key set to v (removed when v is null).
func (st kvState) with(key string, v regValue) kvState {
	i, found := slices.BinarySearchFunc(st, key, byKey)
	switch {
	case found && v == null:
		return slices.Delete(slices.Clone(st), i, i+1)
	case found:
		out := slices.Clone(st)
		out[i].value = v
		return out
	case v == null:
		return st
	}
	return slices.Insert(slices.Clone(st), i, kvPair{key: key, value: v})
}

func byKey(p kvPair, key string) int { return cmp.Compare(p.key, key) }

// multiStep is the sequential specification of several keys. Single-key operations
// follow kvStep on their key; a txn writes all its pairs; an mget must read, for every
// key, the value the key holds.
func multiStep(state, input, output any) (bool, any) {
	st, in, out := state.(kvState), input.(kvInput), output.(kvOutput)
	switch in.f {
	case "txn":
		for _, p := range in.pairs {
			st = st.with(p.key, p.value)
		}
		return true, st
	case "mget":
		for i, p := range in.pairs {
			if st.get(p.key) != out.values[i] {
				return false, st
			}
		}
		return true, st
	}
	ok, v := kvStep(st.get(in.key), input, output)
	if !ok {
		return false, st
	}
	return true, st.with(in.key, v.(regValue))
}

func hashKVState(state any) uint64 {
	h := fnv.New64a()
	for _, p := range state.(kvState) {
		h.Write([]byte(p.key))
		h.Write([]byte{0})
		h.Write([]byte(p.value.s))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// newMultiModel builds the porcupine model for a history with multi-key operations.
func newMultiModel() porcupine.Model {
	return porcupine.Model{
		Partition: func(ops []porcupine.Operation) [][]porcupine.Operation {
			parts, _ := partitionByComponent(ops)
			return parts
		},
		Init:              func() any { return kvState(nil) },
		Step:              multiStep,
		Equal:             func(a, b any) bool { return slices.Equal(a.(kvState), b.(kvState)) },
		Hash:              hashKVState,
		DescribeOperation: func(in, out any) string { return describeOp(in.(kvInput), out.(kvOutput), display) },
		DescribeState:     func(state any) string { return describeKVState(state.(kvState), display) },
	}
}

func describeKVState(st kvState, val func(regValue) string) string {
	parts := make([]string, len(st))
	for i, p := range st {
		parts[i] = p.key + "=" + val(p.value)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// opKeys lists the keys an operation touches.
func opKeys(in kvInput) []string {
	if in.pairs == nil {
		return []string{in.key}
	}
	keys := make([]string, len(in.pairs))
	for i, p := range in.pairs {
		keys[i] = p.key
	}
	return keys
}

func multiKey(ops []porcupine.Operation) bool {
	return slices.ContainsFunc(ops, func(op porcupine.Operation) bool { return op.Input.(kvInput).pairs != nil })
}

// partitionByComponent splits ops into the connected components of the keys they touch
// together. A component is named by its keys, sorted and joined by commas; components
// are sorted by name, so that partition i and its name always line up.
func partitionByComponent(ops []porcupine.Operation) ([][]porcupine.Operation, []string) {
	uf := unionFind{}
	for _, op := range ops {
		keys := opKeys(op.Input.(kvInput))
		for _, k := range keys[1:] {
			uf.union(keys[0], k)
		}
		uf.find(keys[0])
	}
	members := map[string][]string{} // root -> keys
	for _, k := range uf.keys() {
		r := uf.find(k)
		members[r] = append(members[r], k)
	}
	name := map[string]string{} // root -> component name
	//det:unordered each root's name depends only on its own (sorted) members
	for r, keys := range members {
		name[r] = strings.Join(keys, ",")
	}
	byName := map[string][]porcupine.Operation{}
	for _, op := range ops {
		n := name[uf.find(op.Input.(kvInput).firstKey())]
		byName[n] = append(byName[n], op)
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([][]porcupine.Operation, len(names))
	for i, n := range names {
		parts[i] = byName[n]
	}
	return parts, names
}

func (in kvInput) firstKey() string {
	if in.pairs != nil {
		return in.pairs[0].key
	}
	return in.key
}

// unionFind joins keys into components.
type unionFind map[string]string // key -> parent

func (u unionFind) find(k string) string {
	p, ok := u[k]
	if !ok {
		u[k] = k
		return k
	}
	if p == k {
		return k
	}
	r := u.find(p)
	u[k] = r
	return r
}

func (u unionFind) union(a, b string) {
	ra, rb := u.find(a), u.find(b)
	if ra != rb {
		u[max(ra, rb)] = min(ra, rb) // the smaller key is the root: no order dependence
	}
}

// keys returns every key seen, sorted.
func (u unionFind) keys() []string {
	out := make([]string, 0, len(u))
	for k := range u {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// parseMulti reads the input (and, for an ok mget, the output) of a txn or an mget.
func parseMulti(op history.Op, in *kvInput, out *kvOutput) error {
	list, ok := op.Input.List()
	if !ok || len(list) == 0 {
		return fmt.Errorf("%s needs a non-empty list, not %v", op.F, op.Input)
	}
	seen := map[string]bool{}
	in.pairs = make([]kvPair, len(list))
	for i, item := range list {
		p, err := parseItem(op.F, item)
		if err != nil {
			return err
		}
		if seen[p.key] {
			return fmt.Errorf("%s touches key %q twice", op.F, p.key)
		}
		seen[p.key] = true
		in.pairs[i] = p
	}
	if op.F == "mget" && op.Outcome == history.OK {
		return parseRead(op.Output, len(list), out)
	}
	return nil
}

// parseItem reads one element of a txn ([key, value]) or an mget (key).
func parseItem(f string, item history.Value) (kvPair, error) {
	if f == "mget" {
		k, ok := item.Str()
		if !ok {
			return kvPair{}, fmt.Errorf("mget keys must be strings, not %v", item)
		}
		return kvPair{key: k}, nil
	}
	pair, ok := item.List()
	if !ok || len(pair) != 2 {
		return kvPair{}, fmt.Errorf("txn writes are [key, value], not %v", item)
	}
	k, ok := pair[0].Str()
	v, ok2 := pair[1].Str()
	if !ok || !ok2 {
		return kvPair{}, fmt.Errorf("txn writes are [key, value] strings, not %v", item)
	}
	return kvPair{key: k, value: str(v)}, nil
}

// parseRead reads an ok mget's output: n values, strings or null.
func parseRead(v history.Value, n int, out *kvOutput) error {
	list, ok := v.List()
	if !ok || len(list) != n {
		return fmt.Errorf("mget must return a list of %d values, not %v", n, v)
	}
	out.values = make([]regValue, n)
	for i, item := range list {
		var err error
		if out.values[i], err = regFrom(item); err != nil {
			return err
		}
	}
	return nil
}
