package elle

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/checker/history"
)

func TestValidHistories(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    *hist
		txns int
	}{
		{"empty", &hist{}, 0},
		{"serial", (&hist{}).txn(0, "a x 1").txn(1, "r x 1, a x 2").txn(0, "r x 1 2, r y"), 3},
		{"a read concurrent with an append may miss it", (&hist{}).
			invoke(0, "a x 1").invoke(1, "r x").ok(1, "r x").ok(0, "a x 1").
			txn(1, "r x 1"), 3},
		{"concurrent appends land in either order", (&hist{}).
			invoke(0, "a x 1").invoke(1, "a x 2").ok(1, "a x 2").ok(0, "a x 1").
			txn(2, "r x 2 1"), 3},
		{"a txn reads its own appends", (&hist{}).txn(0, "a x 1, r x 1, a y 1, a y 2, r y 1 2").txn(1, "r x 1, r y 1 2"), 2},
		{"an info append may show up later", (&hist{}).
			invoke(0, "a x 1, a y 1").info(0, "a x 1, a y 1").
			txn(1, "r x").txn(2, "r x 1, r y 1"), 3},
		{"an info append may never show up", (&hist{}).
			invoke(0, "a x 1").info(0, "a x 1").txn(1, "a x 2").txn(2, "r x 2"), 3},
		{"an invoke without completion is info", (&hist{}).
			invoke(0, "a x 1").txn(1, "r x 1"), 2},
		{"a failed append is not seen", (&hist{}).
			invoke(0, "a x 1").fail(0, "a x 1").txn(1, "r x").txn(1, "a x 2").txn(1, "r x 2"), 3},
		{"an unobserved append after every read", (&hist{}).
			txn(0, "r x").txn(1, "a x 1"), 2},
		{"snapshot reads of two keys", (&hist{}).
			invoke(0, "a x 1, a y 1").invoke(1, "r x, r y").ok(0, "a x 1, a y 1").ok(1, "r x 1, r y 1").
			invoke(2, "r x, r y").ok(2, "r x 1, r y 1"), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := check(t, tc.h)
			assert.Empty(t, res.Anomalies, res.Report(0))
			assert.True(t, res.Serializable)
			assert.True(t, res.StrictSerializable)
			assert.Equal(t, tc.txns, res.Txns)
		})
	}
}

func TestAnomalies(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    *hist
		want []string // exactly the kinds reported
		// serializable: every anomaly is a realtime one
		serializable bool
	}{
		{"G0: appends interleave in opposite orders on two keys", (&hist{}).
			invoke(0, "a x 1, a y 2").invoke(1, "a x 2, a y 1").ok(0, "a x 1, a y 2").ok(1, "a x 2, a y 1").
			txn(2, "r x 1 2, r y 1 2"), []string{"G0"}, false},
		{"G1a: a failed append is read", (&hist{}).
			invoke(0, "a x 1").fail(0, "a x 1").txn(1, "r x 1"), []string{G1a}, false},
		{"G1b: a read sees the first of two appends", (&hist{}).
			invoke(0, "a x 1, a x 2").invoke(1, "r x").ok(1, "r x 1").ok(0, "a x 1, a x 2").
			txn(2, "r x 1 2"), []string{G1b, "G-single"}, false},
		{"G1c: each reads the other's append", (&hist{}).
			invoke(0, "a x 1, r y").invoke(1, "a y 1, r x").ok(0, "a x 1, r y 1").ok(1, "a y 1, r x 1"),
			[]string{"G1c"}, false},
		{"G-single: read skew", (&hist{}).
			invoke(0, "r x, r y").invoke(1, "a x 1, a y 1").ok(1, "a x 1, a y 1").ok(0, "r x, r y 1"),
			[]string{"G-single"}, false},
		{"G2: write skew", (&hist{}).
			invoke(0, "r x, a y 1").invoke(1, "r y, a x 1").ok(0, "r x, a y 1").ok(1, "r y, a x 1"),
			[]string{"G2"}, false},
		{"incompatible-order", (&hist{}).
			invoke(0, "a x 1").invoke(1, "a x 2").ok(0, "a x 1").ok(1, "a x 2").
			invoke(2, "r x").invoke(3, "r x").ok(2, "r x 1 2").ok(3, "r x 2 1"),
			[]string{IncompatibleOrder}, false},
		{"G-single-realtime: a stale read of an unobserved append", (&hist{}).
			txn(0, "a x 1").txn(1, "r x"), []string{"G-single-realtime"}, true},
		{"G-single-realtime: a stale read of an observed append", (&hist{}).
			txn(0, "a x 1").invoke(1, "r x").invoke(2, "r x").ok(1, "r x").ok(2, "r x 1"),
			[]string{"G-single-realtime"}, true},
		{"G-single-realtime: a lost append", (&hist{}).
			invoke(0, "a x 1").invoke(1, "a x 2").ok(0, "a x 1").ok(1, "a x 2").txn(2, "r x 2"),
			[]string{"G-single-realtime"}, true},
		{"G0-realtime: a later append installed first", (&hist{}).
			txn(0, "a x 1").txn(1, "a x 2").txn(2, "r x 2 1"), []string{"G0-realtime"}, true},
		{"duplicate-elements", (&hist{}).txn(0, "a x 1").txn(1, "r x 1 1"), []string{Duplicates}, false},
		{"garbage", (&hist{}).txn(0, "r x 7"), []string{Garbage}, false},
		{"internal: a read misses the txn's own append", (&hist{}).txn(0, "a x 1, r x"), []string{Internal}, false},
		{"internal: two reads of a key disagree", (&hist{}).
			invoke(1, "a x 1").invoke(0, "r x, r x").ok(1, "a x 1").ok(0, "r x, r x 1"),
			[]string{Internal, "G-single"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := check(t, tc.h)
			assert.ElementsMatch(t, tc.want, res.Kinds(), res.Report(0))
			assert.False(t, res.StrictSerializable)
			assert.Equal(t, tc.serializable, res.Serializable, res.Report(0))
		})
	}
}

// The cycle is spelled out edge by edge, each transaction with its process and micro-ops.
func TestCycleReport(t *testing.T) {
	h := (&hist{}).
		invoke(0, "r x, r y").invoke(1, "a x 1, a y 1").ok(1, "a x 1, a y 1").ok(0, "r x, r y 1").
		invoke(2, "a z 1").info(2, "a z 1")
	res := check(t, h)
	require.Len(t, res.Anomalies, 1)
	assert.Equal(t, "G-single: T1 (process 0: [r x []] [r y [1]]) -rw(x)-> T2 (process 1: [append x 1] [append y 1]) -wr(y)-> T1",
		res.Anomalies[0].String())
	assert.Equal(t, []int{1, 2}, res.Anomalies[0].Txns)
	assert.Equal(t, 3, res.Txns)
	assert.Equal(t, 3, res.Keys)

	res = check(t, (&hist{}).txn(0, "a x 1").txn(1, "r x"))
	assert.Equal(t, "G-single-realtime: T1 (process 0: [append x 1]) -rt-> T3 (process 1: [r x []]) -rw(x)-> T1", res.Report(0))
}

// Shortest cycles: with a two-transaction G-single and a longer one, the short one is
// reported; one cycle per class and component.
func TestShortestCycleIsReported(t *testing.T) {
	h := (&hist{}).
		invoke(0, "r x, r y").invoke(1, "a x 1, a y 1").invoke(2, "r v, r w").invoke(3, "a v 1, a w 1").
		ok(1, "a x 1, a y 1").ok(0, "r x, r y 1").ok(3, "a v 1, a w 1").ok(2, "r v, r w 1").
		// a second component: a three-transaction read skew, T9 -rw(p)-> T10 -wr(q)-> T11 -wr(s)-> T9
		invoke(4, "r p, r s").invoke(5, "a p 1, a q 1").invoke(6, "r q, a s 1").
		ok(5, "a p 1, a q 1").ok(6, "r q 1, a s 1").ok(4, "r p, r s 1")
	res := check(t, h)
	var lens []int
	for _, a := range res.Anomalies {
		require.Equal(t, "G-single", a.Kind, a)
		lens = append(lens, len(a.Txns))
	}
	// {T1,T2} and {T3,T4} are 2-cycles (all four overlap, so no real-time edge joins
	// them); the last one needs three transactions.
	assert.Equal(t, []int{2, 2, 3}, lens, res.Report(0))
}

func TestReportLimit(t *testing.T) {
	h := (&hist{}).txn(0, "r x 7").txn(0, "r y 8").txn(0, "r z 9")
	res := check(t, h)
	assert.Equal(t, 3, len(res.Anomalies))
	lines := strings.Split(res.Report(2), "\n")
	assert.Len(t, lines, 3)
	assert.Equal(t, "... and 1 more anomalies", lines[2])
}

func TestBadHistories(t *testing.T) {
	ev := func(p int, typ history.Type, f string, v history.Value) history.Event {
		return history.Event{Process: p, Type: typ, F: f, Value: v}
	}
	appendX1 := Encode([]Mop{{Append: true, Key: "x", Elem: "1"}})
	for _, tc := range []struct {
		name   string
		events []history.Event
		want   string
	}{
		{"another f", []history.Event{ev(0, history.Invoke, "put", history.Str("v"))}, `has f "put"`},
		{"not a list", []history.Event{ev(0, history.Invoke, F, history.Str("v"))}, "not a list of micro-ops"},
		{"short micro-op", []history.Event{ev(0, history.Invoke, F, history.List(history.List(history.Str("r"), history.Str("x"))))}, "not [f, key, value]"},
		{"unknown f", []history.Event{ev(0, history.Invoke, F, history.List(history.List(history.Str("w"), history.Str("x"), history.Null())))}, `f must be "append" or "r"`},
		{"append without element", []history.Event{ev(0, history.Invoke, F, history.List(history.List(history.Str("append"), history.Str("x"), history.Null())))}, "non-empty element"},
		{"read of a string", []history.Event{
			ev(0, history.Invoke, F, Encode([]Mop{{Key: "x"}})),
			ev(0, history.OK, F, history.List(history.List(history.Str("r"), history.Str("x"), history.Str("1")))),
		}, "neither null nor a list"},
		{"completion of another shape", []history.Event{
			ev(0, history.Invoke, F, appendX1),
			ev(0, history.OK, F, Encode([]Mop{{Append: true, Key: "x", Elem: "2"}})),
		}, "completed as"},
		{"an element appended twice", []history.Event{
			ev(0, history.Invoke, F, appendX1), ev(0, history.OK, F, appendX1),
			ev(1, history.Invoke, F, appendX1), ev(1, history.Fail, F, appendX1),
		}, "appended to x twice, by T1 and T3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Check(tc.events)
			require.ErrorIs(t, err, ErrBadTxn)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	_, err := Check([]history.Event{{Process: 0, Type: history.OK, F: F, Value: appendX1}})
	var herr *history.Error
	assert.ErrorAs(t, err, &herr, "a completion without invocation breaks the protocol")
}

// A history file may write elements as numbers; they round-trip as their decimal text.
func TestHistoryFileRoundTrip(t *testing.T) {
	file := `{"process":0,"type":"invoke","f":"txn","value":[["append","x",1],["r","y",null]],"time":10}
{"process":1,"type":"invoke","f":"txn","value":[["append","y",1]],"time":11}
{"process":1,"type":"ok","f":"txn","value":[["append","y",1]],"time":12}
{"process":0,"type":"ok","f":"txn","value":[["append","x",1],["r","y",[1]]],"time":20}
{"process":2,"type":"invoke","f":"txn","value":[["r","x",null],["r","y",null]],"time":30}
{"process":2,"type":"ok","f":"txn","value":[["r","x",[1]],["r","y",[1]]],"time":40}
`
	events, err := history.Read(strings.NewReader(file))
	require.NoError(t, err)
	res, err := Check(events)
	require.NoError(t, err)
	assert.True(t, res.StrictSerializable, res.Report(0))
	assert.Equal(t, 3, res.Txns)

	var buf bytes.Buffer
	require.NoError(t, history.Write(&buf, events))
	back, err := history.Read(&buf)
	require.NoError(t, err)
	require.Len(t, back, len(events))
	for i := range events {
		assert.True(t, events[i].Equal(back[i]), "event %d", i)
	}
	mops, err := Decode(back[3].Value)
	require.NoError(t, err)
	assert.Equal(t, []Mop{{Append: true, Key: "x", Elem: "1"}, {Key: "y", Read: []string{"1"}, Known: true}}, mops)
}

// A component the searches cannot finish (here: no budget at all) is still reported,
// with a cycle walked along its edges and classified by them.
func TestComponentBeyondTheBudget(t *testing.T) {
	for _, tc := range []struct {
		h    *hist
		want string
	}{
		{(&hist{}).invoke(0, "r x, r y").invoke(1, "a x 1, a y 1").ok(1, "a x 1, a y 1").ok(0, "r x, r y 1"), "G-single"},
		{(&hist{}).txn(0, "a x 1").txn(1, "r x"), "G-single-realtime"},
		{(&hist{}).invoke(0, "r x, a y 1").invoke(1, "r y, a x 1").ok(0, "r x, a y 1").ok(1, "r y, a x 1"), "G2"},
	} {
		a, err := analyse(tc.h.events)
		require.NoError(t, err)
		comps := a.g.sccs()
		require.Len(t, comps, 1)
		c := newComponent(a.g, comps[0], 0)
		for _, cl := range dataClasses {
			assert.Nil(t, c.shortest(cl), "no budget, no search")
		}
		assert.Equal(t, tc.want, classify(c.anyCycle()))
	}
}
