package checker

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/checker/history"
)

// A partitioned cluster leaves many writes indefinite. Those nobody observed are dropped
// before the search; those observed stay, and the verdicts do not change.
func TestUnobservedIndefiniteWritesAreDropped(t *testing.T) {
	var rec history.Recorder
	now := int64(0)
	tick := func() int64 { now++; return now }
	rec.Invoke(0, "put", "k", history.Str("base"), tick())
	rec.Complete(0, history.OK, history.Str("base"), tick())
	// 60 indefinite writes by 60 processes, all concurrent with everything after them.
	for p := 1; p <= 60; p++ {
		rec.Invoke(p, "put", "k", history.Str(fmt.Sprintf("lost%d", p)), tick())
	}
	for p := 1; p <= 60; p++ {
		rec.Complete(p, history.Info, history.Str(fmt.Sprintf("lost%d", p)), tick())
	}
	rec.Invoke(100, "get", "k", history.Null(), tick())
	rec.Complete(100, history.OK, history.Str("base"), tick())

	res, err := Check("register", rec.Events(), Options{Timeout: 10 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, Linearizable, res.Verdict)
	assert.Equal(t, 2, res.Ops, "the 60 unobserved indefinite puts are not searched")

	// One of them observed: it must stay, and explain the read.
	rec.Invoke(101, "get", "k", history.Null(), tick())
	rec.Complete(101, history.OK, history.Str("lost7"), tick())
	res, err = Check("register", rec.Events(), Options{Timeout: 10 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, Linearizable, res.Verdict)
	assert.Equal(t, 4, res.Ops)

	// Reading the old value after the observed one is still a violation.
	rec.Invoke(102, "get", "k", history.Null(), tick())
	rec.Complete(102, history.OK, history.Str("base"), tick())
	res, err = Check("register", rec.Events(), Options{Timeout: 10 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, Illegal, res.Verdict)
}

// A cas expecting a value observes it, even when the cas itself is indefinite.
func TestCasExpectationCountsAsObservation(t *testing.T) {
	ev := []history.Event{
		{Process: 0, Type: history.Invoke, F: "put", Key: "k", Value: history.Str("a"), Time: 1},
		{Process: 0, Type: history.Info, F: "put", Key: "k", Value: history.Str("a"), Time: 2},
		{Process: 1, Type: history.Invoke, F: "cas", Key: "k", Value: history.List(history.Str("a"), history.Str("b")), Time: 3},
		{Process: 1, Type: history.OK, F: "cas", Key: "k", Value: history.List(history.Str("a"), history.Str("b")), Time: 4},
	}
	res, err := Check("register", ev, Options{})
	require.NoError(t, err)
	assert.Equal(t, Linearizable, res.Verdict, "the indefinite put of a must be kept: the cas saw it")
	assert.Equal(t, 2, res.Ops)
}

// An indefinite delete nobody could have seen (no later get returned null) is dropped; one
// that a later null read may explain stays and keeps that read legal.
func TestUnobservedIndefiniteDeletes(t *testing.T) {
	base := []history.Event{
		{Process: 0, Type: history.Invoke, F: "put", Key: "k", Value: history.Str("a"), Time: 1},
		{Process: 0, Type: history.OK, F: "put", Key: "k", Value: history.Str("a"), Time: 2},
		{Process: 1, Type: history.Invoke, F: "delete", Key: "k", Value: history.Null(), Time: 3},
		{Process: 1, Type: history.Info, F: "delete", Key: "k", Value: history.Null(), Time: 4},
		{Process: 2, Type: history.Invoke, F: "get", Key: "k", Value: history.Null(), Time: 5},
	}
	sawA := append(append([]history.Event{}, base...), history.Event{Process: 2, Type: history.OK, F: "get", Key: "k", Value: history.Str("a"), Time: 6})
	res, err := Check("kv", sawA, Options{})
	require.NoError(t, err)
	assert.Equal(t, Linearizable, res.Verdict)
	assert.Equal(t, 2, res.Ops, "the delete nobody saw is not searched")

	sawNull := append(append([]history.Event{}, base...), history.Event{Process: 2, Type: history.OK, F: "get", Key: "k", Value: history.Null(), Time: 6})
	res, err = Check("kv", sawNull, Options{})
	require.NoError(t, err)
	assert.Equal(t, Linearizable, res.Verdict, "the delete explains the null read")
	assert.Equal(t, 3, res.Ops)
}
