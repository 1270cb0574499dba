package checker

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/orrery/orrery/checker/history"
	"github.com/stretchr/testify/require"
)

// hist builds a history from compact lines "process type f key value time",
// where value is _ for null, a|b for a cas pair, a,b,... for a list (a trailing
// comma for a list of one), k=v for a [key, value] pair, or a string.
func hist(t testing.TB, lines ...string) []history.Event {
	t.Helper()
	var rec history.Recorder
	for _, line := range lines {
		fields := strings.Fields(line)
		require.Len(t, fields, 6, "line %q", line)
		p, err := strconv.Atoi(fields[0])
		require.NoError(t, err)
		tm, err := strconv.ParseInt(fields[5], 10, 64)
		require.NoError(t, err)
		rec.Append(history.Event{Process: p, Type: history.Type(fields[1]), F: fields[2], Key: fields[3], Value: val(fields[4]), Time: tm})
	}
	return rec.Events()
}

func val(s string) history.Value {
	if s == "_" {
		return history.Null()
	}
	if a, b, ok := strings.Cut(s, "|"); ok {
		return history.List(val(a), val(b))
	}
	if strings.Contains(s, ",") {
		var items []history.Value
		for _, item := range strings.Split(strings.TrimSuffix(s, ","), ",") {
			items = append(items, val(item))
		}
		return history.List(items...)
	}
	if k, v, ok := strings.Cut(s, "="); ok {
		return history.List(history.Str(k), val(v))
	}
	return history.Str(s)
}

// genOp is an operation in flight in genLinearizable.
type genOp struct {
	f, key  string
	in, out history.Value
	typ     history.Type
	applied bool
}

// genLinearizable simulates clients of a correct store: each op takes effect
// at one instant between its invoke and its completion, so the history is
// linearizable by construction. Concurrency comes from interleaving procs.
func genLinearizable(seed uint64, keys, procs, ops int) []history.Event {
	rng := rand.New(rand.NewPCG(seed, 1))
	state := make(map[string]history.Value)
	open := make(map[int]*genOp)
	var rec history.Recorder
	var now int64
	for started := 0; started < ops || len(open) > 0; {
		now += 1 + rng.Int64N(10)
		p := rng.IntN(procs)
		op, busy := open[p]
		switch {
		case !busy && started < ops:
			op = randomOp(rng, keys)
			open[p] = op
			rec.Invoke(p, op.f, op.key, op.in, now)
			started++
		case busy && !op.applied:
			op.apply(state)
		case busy:
			rec.Complete(p, op.typ, op.out, now)
			delete(open, p)
		}
	}
	return rec.Events()
}

func randomOp(rng *rand.Rand, keys int) *genOp {
	key := fmt.Sprintf("k%d", rng.IntN(keys))
	v := func() history.Value { return history.Str(fmt.Sprintf("v%d", rng.IntN(5))) }
	switch rng.IntN(3) {
	case 0:
		return &genOp{f: "get", key: key, in: history.Null()}
	case 1:
		return &genOp{f: "put", key: key, in: v()}
	default:
		return &genOp{f: "cas", key: key, in: history.List(v(), v())}
	}
}

// apply is the op's linearization point on a correct register.
func (op *genOp) apply(state map[string]history.Value) {
	op.applied, op.typ, op.out = true, history.OK, op.in
	switch op.f {
	case "get":
		op.out = state[op.key]
	case "put":
		state[op.key] = op.in
	case "cas":
		pair, _ := op.in.List()
		if state[op.key].Equal(pair[0]) {
			state[op.key] = pair[1]
		} else {
			op.typ = history.Fail
		}
	}
}
