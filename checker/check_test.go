package checker

import (
	"bytes"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/orrery/orrery/checker/history"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestModels(t *testing.T) {
	assert.Equal(t, []string{"kv", "register"}, Models())
}

func TestCheckVerdicts(t *testing.T) {
	tests := []struct {
		name    string
		model   string
		events  []string
		want    Verdict
		illegal []string // keys named in IllegalKeys and Violation
	}{
		{
			name: "empty history",
			want: Linearizable,
		},
		{
			name: "sequential put then get",
			events: []string{
				"0 invoke put k1 v1 10", "0 ok put k1 v1 20",
				"1 invoke get k1 _ 30", "1 ok get k1 v1 40",
			},
			want: Linearizable,
		},
		{
			name: "initial value is null",
			events: []string{
				"1 invoke get k1 _ 30", "1 ok get k1 _ 40",
			},
			want: Linearizable,
		},
		{
			name: "concurrent read may see old or new",
			events: []string{
				"0 invoke put k1 v1 10", "0 ok put k1 v1 20",
				"0 invoke put k1 v2 30",
				"1 invoke get k1 _ 31", "1 ok get k1 v1 32", // before the put took effect
				"2 invoke get k1 _ 33", "2 ok get k1 v2 34", // after
				"0 ok put k1 v2 40",
			},
			want: Linearizable,
		},
		{
			name: "stale read",
			events: []string{
				"0 invoke put k1 v1 10", "0 ok put k1 v1 20",
				"0 invoke put k1 v2 30", "0 ok put k1 v2 40",
				"1 invoke get k1 _ 50", "1 ok get k1 v1 60",
			},
			want:    Illegal,
			illegal: []string{"k1"},
		},
		{
			name: "lost write",
			events: []string{
				"0 invoke put k1 v1 10", "0 ok put k1 v1 20",
				"1 invoke get k1 _ 30", "1 ok get k1 _ 40",
			},
			want:    Illegal,
			illegal: []string{"k1"},
		},
		{
			name: "cas ok",
			events: []string{
				"0 invoke put k1 v1 10", "0 ok put k1 v1 20",
				"1 invoke cas k1 v1|v2 30", "1 ok cas k1 v1|v2 40",
				"2 invoke get k1 _ 50", "2 ok get k1 v2 60",
			},
			want: Linearizable,
		},
		{
			name: "cas succeeded from the wrong value",
			events: []string{
				"0 invoke put k1 v1 10", "0 ok put k1 v1 20",
				"1 invoke cas k1 v9|v2 30", "1 ok cas k1 v9|v2 40",
			},
			want:    Illegal,
			illegal: []string{"k1"},
		},
		{
			name: "failed cas is dropped",
			events: []string{
				"0 invoke put k1 v1 10", "0 ok put k1 v1 20",
				"1 invoke cas k1 v9|v2 30", "1 fail cas k1 v9|v2 40",
				"2 invoke get k1 _ 50", "2 ok get k1 v1 60",
			},
			want: Linearizable,
		},
		{
			name: "failed put did not happen, so reading it is illegal",
			events: []string{
				"0 invoke put k1 v1 10", "0 fail put k1 v1 20",
				"1 invoke get k1 _ 30", "1 ok get k1 v1 40",
			},
			want:    Illegal,
			illegal: []string{"k1"},
		},
		{
			name: "info put takes effect late",
			events: []string{
				"0 invoke put k1 v1 10", "0 info put k1 v1 20",
				"1 invoke get k1 _ 30", "1 ok get k1 _ 40",
				"2 invoke get k1 _ 50", "2 ok get k1 v1 60",
				"3 invoke get k1 _ 70", "3 ok get k1 v1 80",
			},
			want: Linearizable,
		},
		{
			name: "info put never takes effect",
			events: []string{
				"0 invoke put k1 v1 10", "0 info put k1 v1 20",
				"1 invoke get k1 _ 30", "1 ok get k1 _ 40",
			},
			want: Linearizable,
		},
		{
			name: "info put read then un-read",
			events: []string{
				"0 invoke put k1 v1 10", "0 info put k1 v1 20",
				"1 invoke get k1 _ 30", "1 ok get k1 v1 40",
				"2 invoke get k1 _ 50", "2 ok get k1 _ 60",
				"3 invoke get k1 _ 70", "3 ok get k1 v1 80",
			},
			want:    Illegal,
			illegal: []string{"k1"},
		},
		{
			name: "invoke without completion is info",
			events: []string{
				"0 invoke put k1 v1 10",
				"1 invoke get k1 _ 30", "1 ok get k1 v1 40",
			},
			want: Linearizable,
		},
		{
			name: "info cas applied",
			events: []string{
				"0 invoke put k1 v1 10", "0 ok put k1 v1 20",
				"1 invoke cas k1 v1|v2 30", "1 info cas k1 v1|v2 40",
				"2 invoke get k1 _ 50", "2 ok get k1 v2 60",
			},
			want: Linearizable,
		},
		{
			name: "info cas did not apply",
			events: []string{
				"0 invoke put k1 v1 10", "0 ok put k1 v1 20",
				"1 invoke cas k1 v1|v2 30", "1 info cas k1 v1|v2 40",
				"2 invoke get k1 _ 50", "2 ok get k1 v1 60",
			},
			want: Linearizable,
		},
		{
			name: "info cas found another value and did nothing",
			events: []string{
				"0 invoke put k1 v1 10", "0 ok put k1 v1 20",
				"1 invoke cas k1 v7|v2 30", "1 info cas k1 v7|v2 40",
				"2 invoke get k1 _ 50", "2 ok get k1 v1 60",
			},
			want: Linearizable,
		},
		{
			name: "info cas cannot apply from the wrong value",
			events: []string{
				"0 invoke put k1 v1 10", "0 ok put k1 v1 20",
				"1 invoke cas k1 v7|v2 30", "1 info cas k1 v7|v2 40",
				"2 invoke get k1 _ 50", "2 ok get k1 v2 60",
			},
			want:    Illegal,
			illegal: []string{"k1"},
		},
		{
			name: "info cas applied, then un-applied",
			events: []string{
				"0 invoke put k1 v1 10", "0 ok put k1 v1 20",
				"1 invoke cas k1 v1|v2 30", "1 info cas k1 v1|v2 40",
				"2 invoke get k1 _ 50", "2 ok get k1 v2 60",
				"3 invoke get k1 _ 70", "3 ok get k1 v1 80",
			},
			want:    Illegal,
			illegal: []string{"k1"},
		},
		{
			name: "info get is dropped, whatever it returned",
			events: []string{
				"0 invoke get k1 _ 10", "0 info get k1 nonsense 20",
			},
			want: Linearizable,
		},
		{
			name:  "kv delete",
			model: "kv",
			events: []string{
				"0 invoke put k1 v1 10", "0 ok put k1 v1 20",
				"0 invoke delete k1 _ 30", "0 ok delete k1 _ 40",
				"1 invoke get k1 _ 50", "1 ok get k1 _ 60",
			},
			want: Linearizable,
		},
		{
			name:  "kv read after delete sees the old value",
			model: "kv",
			events: []string{
				"0 invoke put k1 v1 10", "0 ok put k1 v1 20",
				"0 invoke delete k1 _ 30", "0 ok delete k1 _ 40",
				"1 invoke get k1 _ 50", "1 ok get k1 v1 60",
			},
			want:    Illegal,
			illegal: []string{"k1"},
		},
		{
			name: "only the broken keys are named",
			events: []string{
				"0 invoke put b v1 10", "1 invoke put a v1 10", "2 invoke put c v1 10",
				"0 ok put b v1 20", "1 ok put a v1 20", "2 ok put c v1 20",
				"3 invoke get c _ 30", "4 invoke get b _ 30", "5 invoke get a _ 30",
				"3 ok get c _ 40", "4 ok get b v1 40", "5 ok get a v2 40",
			},
			want:    Illegal,
			illegal: []string{"a", "c"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			model := tt.model
			if model == "" {
				model = "register"
			}
			res, err := Check(model, hist(t, tt.events...), Options{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, res.Verdict)
			assert.Equal(t, model, res.Model)
			assert.Equal(t, tt.illegal, res.IllegalKeys)
			if tt.want != Illegal {
				assert.Empty(t, res.Violation)
				return
			}
			for _, key := range tt.illegal {
				assert.Contains(t, res.Violation, `key "`+key+`": no linearization`)
			}
		})
	}
}

func TestViolationText(t *testing.T) {
	tests := []struct {
		name   string
		events []string
		want   string
	}{
		{
			name: "stale read",
			events: []string{
				"0 invoke put k1 v1 10", "0 ok put k1 v1 20",
				"1 invoke put k1 v2 30", "1 ok put k1 v2 40",
				"2 invoke get k1 _ 50", "2 ok get k1 v1 60",
			},
			want: `key "k1": no linearization; longest linearizable prefix has 2 of 3 ops; cannot place: process 2 get k1 -> "v1" [50, 60] (state was "v2")`,
		},
		{
			name: "cas from the wrong value",
			events: []string{
				"0 invoke put k1 v1 10", "0 ok put k1 v1 20",
				"1 invoke cas k1 v9|v2 30", "1 ok cas k1 v9|v2 40",
			},
			want: `key "k1": no linearization; longest linearizable prefix has 1 of 2 ops; cannot place: process 1 cas k1 "v9"->"v2" [30, 40] (state was "v1")`,
		},
		{
			name: "value flips back after an info put",
			events: []string{
				"0 invoke put k1 v1 10", "0 info put k1 v1 20",
				"1 invoke get k1 _ 30", "1 ok get k1 v1 40",
				"2 invoke get k1 _ 50", "2 ok get k1 _ 60",
			},
			want: `key "k1": no linearization; longest linearizable prefix has 2 of 3 ops; cannot place: process 2 get k1 -> null [50, 60] (state was "v1")`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := hist(t, tt.events...)
			for range 5 { // porcupine hands back partials in map order
				res, err := Check("register", events, Options{})
				require.NoError(t, err)
				assert.Equal(t, tt.want, res.Violation)
			}
		})
	}
}

func TestViolationIsShort(t *testing.T) {
	var lines []string
	for i, key := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		at := func(t int) string { return strconv.Itoa(100*i + t) }
		lines = append(lines, "0 invoke put "+key+" v1 "+at(10), "0 ok put "+key+" v1 "+at(20),
			"1 invoke get "+key+" _ "+at(30), "1 ok get "+key+" _ "+at(40))
	}
	res, err := Check("register", hist(t, lines...), Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c", "d", "e", "f", "g"}, res.IllegalKeys)
	assert.Contains(t, res.Violation, `key "e"`)
	assert.NotContains(t, res.Violation, `key "f"`)
	assert.Contains(t, res.Violation, "... and 2 more keys")
}

func TestCheckErrors(t *testing.T) {
	tests := []struct {
		name   string
		model  string
		events []history.Event
		is     error
		want   string
	}{
		{
			name:  "unknown model",
			model: "bank",
			is:    ErrUnknownModel,
			want:  `checker: unknown model "bank" (known: kv, register)`,
		},
		{
			name:   "f the model does not have",
			model:  "register",
			events: hist(t, "0 invoke put k v 1", "0 ok put k v 2", "0 invoke delete k _ 3", "0 fail delete k _ 4"),
			is:     ErrBadOp,
			want:   `checker: bad operation: event 3 (process 0 delete): model register has no operation "delete"`,
		},
		{
			name:   "put of null",
			model:  "kv",
			events: hist(t, "0 invoke put k _ 1"),
			is:     ErrBadOp,
			want:   `checker: bad operation: event 1 (process 0 put): put needs a string value, not null`,
		},
		{
			name:   "cas without a pair",
			model:  "kv",
			events: hist(t, "0 invoke cas k v 1"),
			is:     ErrBadOp,
			want:   `checker: bad operation: event 1 (process 0 cas): cas needs [expected, new], not "v"`,
		},
		{
			name:   "get reading a list",
			model:  "kv",
			events: hist(t, "0 invoke get k _ 1", "0 ok get k a|b 2"),
			is:     ErrBadOp,
			want:   `checker: bad operation: event 1 (process 0 get): value ["a", "b"] is neither a string nor null`,
		},
		{
			name:   "malformed history",
			model:  "kv",
			events: []history.Event{{Process: 0, Type: history.OK, F: "get", Time: 1}},
			want:   `checker: history: event 1: ok "get" by process 0 without an open invoke`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Check(tt.model, tt.events, Options{})
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
			if tt.is != nil {
				assert.True(t, errors.Is(err, tt.is), "errors.Is(%v)", tt.is)
			}
		})
	}
	var herr *history.Error
	_, err := Check("kv", tests[len(tests)-1].events, Options{})
	assert.True(t, errors.As(err, &herr), "a malformed history gives a *history.Error")
}

func TestCheckManyKeysIsFast(t *testing.T) {
	events := genLinearizable(1, 20, 40, 20000)
	// Generous: partitioned, this takes well under a second. Unknown here
	// would mean partitioning is broken.
	res, err := Check("register", events, Options{Timeout: 2 * time.Minute})
	require.NoError(t, err)
	assert.Equal(t, Linearizable, res.Verdict)
	assert.Equal(t, 20, res.Keys)
	assert.Greater(t, res.Ops, 10000)
}

func TestCheckTinyTimeout(t *testing.T) {
	events := genLinearizable(2, 3, 30, 20000)
	res, err := Check("register", events, Options{Timeout: time.Nanosecond})
	require.NoError(t, err)
	// Whether the search finishes in time depends on the machine; both are
	// right, a violation is not.
	assert.Contains(t, []Verdict{Linearizable, Unknown}, res.Verdict)
	assert.Empty(t, res.Violation)
}

func TestGeneratorIsLinearizable(t *testing.T) {
	for seed := range uint64(20) {
		res, err := Check("register", genLinearizable(seed, 2, 6, 300), Options{})
		require.NoError(t, err)
		require.Equal(t, Linearizable, res.Verdict, "seed %d: %s", seed, res.Violation)
	}
}

func TestWriteHTML(t *testing.T) {
	events := hist(t,
		"0 invoke put k1 v5 1000", "0 ok put k1 v5 2000",
		"1 invoke cas k1 v5|v6 2500", "1 info cas k1 v5|v6 3000",
		"3 invoke get k1 _ 3500", "3 ok get k1 v6 3600",
		"2 invoke get k1 _ 4000", "2 ok get k1 v3 5000",
	)
	res, err := Check("register", events, Options{Annotations: []Annotation{
		{Start: 1500, End: 4500, Label: "partition {1,2}|{3,4,5}", Detail: "nemesis", Tag: "faults"},
		{Start: 4200, End: 4200, Label: "kill n3", Tag: "faults"},
		{Start: 100, End: 200, Label: "untagged"},
	}})
	require.NoError(t, err)
	require.Equal(t, Illegal, res.Verdict)

	var buf bytes.Buffer
	require.NoError(t, res.WriteHTML(&buf))
	html := buf.String()
	assert.Contains(t, html, "partition {1,2}|{3,4,5}")
	assert.Contains(t, html, "kill n3")
	assert.Contains(t, html, `"Tag":"faults"`)
	assert.Contains(t, html, `"Tag":"annotations"`, "untagged annotations get a row of their own")
	assert.Contains(t, html, "put k1 v5")
	assert.Contains(t, html, "cas k1 v5-\\u003ev6 (unknown)", "info ops are marked")
	assert.Contains(t, html, "get k1 -\\u003e v3")
	assert.Contains(t, html, "history event 3; outcome unknown", "tooltips point into the history")

	assert.Error(t, Result{}.WriteHTML(&buf))
}
