package checker

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/checker/history"
)

// lockOp renders one operation as its invoke and completion.
func lockOp(p int, f string, call, ret int64, typ history.Type, token string) []history.Event {
	out := history.Null()
	if token != "" {
		out = history.Str(token)
	}
	return []history.Event{
		{Process: p, Type: history.Invoke, F: f, Key: "lock/", Value: history.Null(), Time: call},
		{Process: p, Type: typ, F: f, Key: "lock/", Value: out, Time: ret},
	}
}

// byTime merges operations into one history ordered by time (invokes first on ties).
func byTime(ops ...[]history.Event) []history.Event {
	var all []history.Event
	for _, o := range ops {
		all = append(all, o...)
	}
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && all[j].Time < all[j-1].Time; j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	return all
}

func TestCheckLock(t *testing.T) {
	ok := history.OK
	turns := [][]history.Event{
		lockOp(0, "acquire", 0, 10, ok, "5"), lockOp(0, "write", 11, 20, ok, "5"), lockOp(0, "release", 21, 30, ok, "5"),
		lockOp(1, "acquire", 1, 35, ok, "9"), lockOp(1, "write", 40, 50, ok, "9"), lockOp(1, "cycle", 60, 90, ok, "12"),
	}
	for _, tc := range []struct {
		name      string
		ops       [][]history.Event
		violation string
	}{
		{name: "holders take turns", ops: turns},
		{name: "a write with an older token after a newer one completed", violation: "fencing: a write with token 5 began at 55",
			ops: append(turns[:len(turns):len(turns)], lockOp(2, "write", 55, 58, ok, "5"))},
		{name: "acquired while the previous holder held", violation: "exclusion: token 9 was acquired by 25",
			ops: [][]history.Event{lockOp(0, "acquire", 0, 10, ok, "5"), lockOp(0, "release", 30, 40, ok, "5"), lockOp(1, "acquire", 1, 25, ok, "9")}},
		{name: "a failed release (lock lost) allows the overlap",
			ops: [][]history.Event{lockOp(0, "acquire", 0, 10, ok, "5"), lockOp(0, "release", 30, 40, history.Fail, ""), lockOp(1, "acquire", 1, 25, ok, "9")}},
		{name: "a write with a token nobody acquired", violation: "a write with token 7",
			ops: [][]history.Event{lockOp(0, "write", 0, 10, ok, "7")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := CheckLock(byTime(tc.ops...))
			require.NoError(t, err)
			if tc.violation == "" {
				assert.Empty(t, res.Violation)
				return
			}
			assert.Contains(t, res.Violation, tc.violation)
		})
	}
	_, err := CheckLock(byTime(lockOp(0, "get", 0, 1, ok, "1")))
	assert.ErrorIs(t, err, ErrBadOp)
}
