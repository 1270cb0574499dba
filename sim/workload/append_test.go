package workload

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/checker/elle"
	"github.com/orrery/orrery/checker/history"
	"github.com/orrery/orrery/sim"
)

// Elements are unique per key, transactions hold 1-4 micro-ops, and none reads a key
// between two of its own appends to it (the client could not serve that read).
func TestAppendOpsDraw(t *testing.T) {
	g := &appendOps{keys: 3, next: map[string]int{}}
	r := sim.NewRand(1)
	seen := map[string]bool{}
	sizes := map[int]int{}
	for range 1000 {
		op := g.Next(r, 0)
		require.Equal(t, elle.F, op.F)
		mops, err := elle.Decode(sim.HistoryValue(op.Value))
		require.NoError(t, err)
		sizes[len(mops)]++
		appended, readAfter := map[string]bool{}, map[string]bool{}
		for _, m := range mops {
			require.Contains(t, []string{"k0", "k1", "k2"}, m.Key)
			if !m.Append {
				require.False(t, m.Known, "an invocation's reads are null")
				readAfter[m.Key] = appended[m.Key]
				continue
			}
			require.False(t, readAfter[m.Key], "%v reads %s between two appends", mops, m.Key)
			id := m.Key + "/" + m.Elem
			require.False(t, seen[id], "%s appended twice", id)
			seen[id] = true
			appended[m.Key] = true
		}
	}
	for n := 1; n <= 4; n++ {
		assert.Positive(t, sizes[n], "no transaction of %d micro-ops", n)
	}
	assert.Len(t, sizes, 4)
	final, err := elle.Decode(sim.HistoryValue(g.Final(r, 0).Value))
	require.NoError(t, err)
	assert.Equal(t, []elle.Mop{{Key: "k0"}, {Key: "k1"}, {Key: "k2"}}, final)
}

// A fault-free run commits appends, reads its own writes, reads between revisions, and
// passes the check.
func TestAppendWorkloadRuns(t *testing.T) {
	sys, err := appendWorkload().BuildSystem(Config{})
	require.NoError(t, err)
	res, err := sim.Run(sys, sim.Options{Seed: 3, Ops: 100})
	require.NoError(t, err)
	require.NoError(t, res.Liveness)
	require.NoError(t, checkAppend(res))
	var writes, reads, nonEmpty int
	for _, e := range res.History {
		if e.Type != history.OK {
			continue
		}
		mops, err := elle.Decode(e.Value)
		require.NoError(t, err)
		appends := false
		for _, m := range mops {
			appends = appends || m.Append
			if !m.Append && len(m.Read) > 0 {
				nonEmpty++
			}
		}
		if appends {
			writes++
		} else {
			reads++
		}
	}
	assert.Greater(t, writes, 30)
	assert.Greater(t, reads, 10)
	assert.Greater(t, nonEmpty, 50)
	assert.Positive(t, res.Probes[ProbeReadBetween], "no read-only transaction read between revisions")
}

func TestCheckAppend(t *testing.T) {
	txn := func(p int, typ history.Type, mops ...elle.Mop) history.Event {
		return history.Event{Process: p, Type: typ, F: elle.F, Value: elle.Encode(mops)}
	}
	appendX := elle.Mop{Append: true, Key: "x", Elem: "1"}
	readX := func(l ...string) elle.Mop { return elle.Mop{Key: "x", Read: l, Known: l != nil} }
	ok := []history.Event{txn(0, history.Invoke, appendX), txn(0, history.OK, appendX),
		txn(1, history.Invoke, readX()), txn(1, history.OK, readX("1"))}
	assert.NoError(t, checkAppend(sim.Result{History: ok}))

	stale := []history.Event{txn(0, history.Invoke, appendX), txn(0, history.OK, appendX),
		txn(1, history.Invoke, readX()), txn(1, history.OK, readX([]string{}...))}
	err := checkAppend(sim.Result{History: stale})
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "not strict serializable (1 anomalies in 2 transactions): G-single-realtime: T1"), err)

	bad := []history.Event{{Process: 0, Type: history.Invoke, F: "put", Value: history.Str("v")}}
	assert.ErrorContains(t, checkAppend(sim.Result{History: bad}), "append history:")
}
