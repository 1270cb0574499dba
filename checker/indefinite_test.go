package checker

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/checker/history"
)

func TestReduceIndefinite(t *testing.T) {
	ops, err := convert(kvSpec(t), hist(t,
		"0 invoke txn _ k0=a,k1=b 10", // read below: kept, pinned at 40
		"1 invoke cas k0 x|y 11",      // y is only expected by an info cas that is dropped: dropped
		"2 invoke cas k0 y|z 12",      // z is read by nobody: dropped
		"3 invoke put k1 c 13",        // c is only expected by a failed cas: dropped
		"4 invoke delete k1 _ 14",     // a null read may follow: kept, not pinned
		"0 info txn _ k0=a,k1=b 20", "1 info cas k0 x|y 21", "2 info cas k0 y|z 22",
		"3 info put k1 c 23", "4 info delete k1 _ 24",
		"5 invoke mget _ k0,k1 30", "5 ok mget _ a,b 40",
		"6 invoke cas k1 c|d 41", "6 fail cas k1 c|d 42",
		"7 invoke get k1 _ 50", "7 ok get k1 _ 60",
	))
	require.NoError(t, err)
	var got []string
	for _, op := range ops {
		got = append(got, fmt.Sprintf("%s [%d, %d]", describeOp(op.Input.(kvInput), op.Output.(kvOutput), display), op.Call, op.Return))
	}
	assert.Equal(t, []string{
		"txn k0=a k1=b (unknown) [10, 40]",
		"delete k1 (unknown) [14, 61]",
		"mget k0 k1 -> a b [30, 40]",
		"get k1 -> null [50, 60]",
	}, got)
	assert.Contains(t, ops[0].Metadata, "a definite read of its value returned at 40")
}

func kvSpec(t *testing.T) modelSpec {
	spec, err := lookup("kv")
	require.NoError(t, err)
	return spec
}

// reduceIndefinite never changes a verdict: on small random multi-key histories, some
// linearizable and some not, porcupine agrees with and without it.
func TestReduceIndefiniteKeepsVerdicts(t *testing.T) {
	verdicts := map[bool]int{}
	reducedN := 0
	for seed := uint64(1); seed <= 400; seed++ {
		events := genMultiKey(seed)
		full, err := collect(kvSpec(t), events)
		require.NoError(t, err)
		if !multiKey(full) {
			continue
		}
		reduced := reduceIndefinite(append([]porcupine.Operation(nil), full...))
		m := newMultiModel()
		want := porcupine.CheckOperations(m, full)
		got := porcupine.CheckOperations(m, reduced)
		require.Equal(t, want, got, "seed %d: %d ops, %d after reducing", seed, len(full), len(reduced))
		verdicts[want]++
		if len(reduced) < len(full) {
			reducedN++
		}
	}
	assert.Positive(t, verdicts[true], "linearizable histories")
	assert.Positive(t, verdicts[false], "illegal histories")
	assert.Positive(t, reducedN, "histories reduceIndefinite shortened")
}

// genMultiKey simulates 3 clients of a store with 2 keys doing txns, mgets, gets, puts,
// cas and deletes. Some ops end as info (applied or not), some reads lie.
func genMultiKey(seed uint64) []history.Event {
	rng := rand.New(rand.NewPCG(seed, 7))
	state := map[string]history.Value{}
	var rec history.Recorder
	n, now := 0, int64(0)
	fresh := func() history.Value { n++; return history.Str(fmt.Sprintf("v%d", n)) }
	key := func() string { return fmt.Sprintf("k%d", rng.IntN(2)) }
	type open struct {
		f       string
		in, out history.Value
		typ     history.Type
		done    bool
	}
	procs := map[int]*open{}
	ids := []int{0, 1, 2} // a process that ends info never invokes again: its client gets a new id
	for started := 0; started < 9 || len(procs) > 0; {
		now += 1 + rng.Int64N(5)
		p := rng.IntN(3)
		op := procs[p]
		switch {
		case op == nil && started < 9:
			op = &open{typ: history.OK}
			switch rng.IntN(6) {
			case 0:
				op.f, op.in = "txn", history.List(history.List(history.Str("k0"), fresh()), history.List(history.Str("k1"), fresh()))
			case 1:
				op.f, op.in = "mget", history.List(history.Str("k0"), history.Str("k1"))
			case 2:
				op.f, op.in = "get", history.Null()
			case 3:
				op.f, op.in = "put", fresh()
			case 4:
				op.f, op.in = "cas", history.List(state[key()], fresh())
			default:
				op.f, op.in = "delete", history.Null()
			}
			k := key()
			if op.f == "txn" || op.f == "mget" {
				k = ""
			}
			procs[p] = op
			rec.Invoke(ids[p], op.f, k, op.in, now)
			op.out = history.Str(k) // remembers the key until applied
			started++
		case op != nil && !op.done:
			op.done = true
			k, _ := op.out.Str()
			if rng.IntN(4) == 0 { // ends info; takes effect or not
				op.typ = history.Info
				if rng.IntN(2) == 0 {
					op.out = op.in
					break
				}
			}
			op.out = applyGen(state, op.f, k, op.in, &op.typ)
			if op.typ == history.OK && (op.f == "get" || op.f == "mget") && rng.IntN(8) == 0 {
				op.out = history.List(history.Str("v1"), history.Null()) // a lie
				if op.f == "get" {
					op.out = history.Str("v1")
				}
			}
		case op != nil:
			rec.Complete(ids[p], op.typ, op.out, now)
			delete(procs, p)
			if op.typ == history.Info {
				ids[p] += 3
			}
		}
	}
	return rec.Events()
}

// applyGen applies an op to state at its linearization point and returns its output.
func applyGen(state map[string]history.Value, f, k string, in history.Value, typ *history.Type) history.Value {
	switch f {
	case "txn":
		pairs, _ := in.List()
		for _, p := range pairs {
			kv, _ := p.List()
			ks, _ := kv[0].Str()
			state[ks] = kv[1]
		}
	case "mget":
		return history.List(state["k0"], state["k1"])
	case "get":
		return state[k]
	case "put":
		state[k] = in
	case "delete":
		delete(state, k)
		return history.Null()
	case "cas":
		pair, _ := in.List()
		if !state[k].Equal(pair[0]) {
			if *typ == history.OK {
				*typ = history.Fail
			}
			return in
		}
		state[k] = pair[1]
	}
	return in
}
