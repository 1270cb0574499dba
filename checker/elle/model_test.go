package elle

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/checker/history"
)

// serialStore runs random transactions against a store that applies each one atomically
// at a point between its invocation and its completion (or, for an info one, at any
// point after its invocation, or never), so every history it records is strict
// serializable by construction.
type serialStore struct {
	r      *rand.Rand
	lists  map[string][]string
	next   map[string]int
	h      hist
	open   []*pending // by client
	procs  []int      // each client's current process
	limbo  []*pending // info transactions that may still apply
	invoke int        // transactions left to invoke
}

type pending struct {
	mops    []Mop
	applied bool
	result  []Mop
}

func newSerialStore(seed uint64, clients, txns int) *serialStore {
	s := &serialStore{
		r: rand.New(rand.NewPCG(seed, 1)), lists: map[string][]string{}, next: map[string]int{},
		open: make([]*pending, clients), procs: make([]int, clients), invoke: txns,
	}
	for i := range s.procs {
		s.procs[i] = i
	}
	return s
}

func (s *serialStore) randomTxn() []Mop {
	var mops []Mop
	for range 1 + s.r.IntN(4) {
		key := "k" + strconv.Itoa(s.r.IntN(3))
		if s.r.IntN(2) == 0 {
			mops = append(mops, Mop{Key: key})
			continue
		}
		s.next[key]++
		mops = append(mops, Mop{Append: true, Key: key, Elem: strconv.Itoa(s.next[key])})
	}
	return mops
}

func (s *serialStore) apply(p *pending) {
	p.applied = true
	p.result = slices.Clone(p.mops)
	for i, m := range p.result {
		if m.Append {
			s.lists[m.Key] = append(s.lists[m.Key], m.Elem)
			continue
		}
		p.result[i].Read, p.result[i].Known = slices.Clone(s.lists[m.Key]), true
		if p.result[i].Read == nil {
			p.result[i].Read = []string{}
		}
	}
}

func (s *serialStore) event(c int, typ history.Type, mops []Mop) {
	s.h.now += 10
	s.h.events = append(s.h.events, history.Event{Process: s.procs[c], Type: typ, F: F, Value: Encode(mops), Time: s.h.now})
}

// step does one random thing; it returns false once everything is done.
func (s *serialStore) step() bool {
	c := s.r.IntN(len(s.open))
	p := s.open[c]
	switch {
	case len(s.limbo) > 0 && s.r.IntN(8) == 0:
		i := s.r.IntN(len(s.limbo))
		s.apply(s.limbo[i])
		s.limbo = slices.Delete(s.limbo, i, i+1)
	case p == nil && s.invoke > 0:
		s.invoke--
		s.open[c] = &pending{mops: s.randomTxn()}
		s.event(c, history.Invoke, s.open[c].mops)
	case p == nil:
		return slices.ContainsFunc(s.open, func(p *pending) bool { return p != nil })
	case !p.applied && s.r.IntN(3) > 0:
		s.apply(p)
	default:
		s.complete(c, p)
	}
	return true
}

func (s *serialStore) complete(c int, p *pending) {
	s.open[c] = nil
	switch x := s.r.IntN(10); {
	case x == 0 && !p.applied:
		s.event(c, history.Fail, p.mops)
		return
	case x == 1:
		s.event(c, history.Info, p.mops)
		if !p.applied && s.r.IntN(2) == 0 {
			s.limbo = append(s.limbo, p)
		}
		s.procs[c] += len(s.procs)
		return
	case !p.applied:
		s.apply(p)
	}
	s.event(c, history.OK, p.result)
}

func (s *serialStore) run() []history.Event {
	for s.step() {
	}
	return s.h.events
}

// No false alarms: histories of a store that is strict serializable by construction pass,
// with concurrency, failed and info transactions, and info ones applied late or never.
func TestSerialStoreHistoriesPass(t *testing.T) {
	for seed := range uint64(300) {
		events := newSerialStore(seed, 1+int(seed%5), 40).run()
		res, err := Check(events)
		require.NoError(t, err)
		require.True(t, res.StrictSerializable, "seed %d:\n%s", seed, res.Report(0))
	}
}

// Breaking such a history is noticed: a read made to miss the first element of its list
// mostly contradicts another read or the real-time order (it cannot when the element's
// writer was an info transaction nobody else saw, so not every one is flagged).
func TestCorruptedReadsAreFlagged(t *testing.T) {
	corrupted, flagged := 0, 0
	for seed := range uint64(300) {
		events := newSerialStore(seed, 3, 40).run()
		if !corruptRead(events) {
			continue
		}
		corrupted++
		res, err := Check(events)
		require.NoError(t, err)
		if !res.StrictSerializable {
			flagged++
		}
	}
	require.Greater(t, corrupted, 250)
	assert.GreaterOrEqual(t, flagged, corrupted*9/10, "of %d corrupted histories", corrupted)
}

// corruptRead removes the first element of the first ok read of two or more elements.
func corruptRead(events []history.Event) bool {
	for i, e := range events {
		if e.Type != history.OK {
			continue
		}
		mops, err := Decode(e.Value)
		if err != nil {
			panic(err)
		}
		for j, m := range mops {
			if !m.Append && len(m.Read) >= 2 {
				mops[j].Read = m.Read[1:]
				events[i].Value = Encode(mops)
				return true
			}
		}
	}
	return false
}

// The real-time edges are a transitive reduction of the order "completed ok before the
// other was invoked": equivalence with the quadratic definition on random histories.
func TestRealtimeReductionKeepsTheOrder(t *testing.T) {
	for seed := range uint64(200) {
		events := newSerialStore(seed, 1+int(seed%6), 30).run()
		txns, _, err := load(events)
		require.NoError(t, err)
		want := naiveRealtime(events, txns)
		got := reachability(txns)
		require.Equal(t, want, got, "seed %d", seed)
	}
}

func naiveRealtime(events []history.Event, txns []*Txn) map[[2]int]bool {
	inv, ret := map[int]int{}, map[int]int{} // txn ID -> event index
	open := map[int]int{}
	for i, e := range events {
		if e.Type == history.Invoke {
			open[e.Process] = i + 1
			inv[i+1] = i
			continue
		}
		if e.Type == history.OK {
			ret[open[e.Process]] = i
		}
	}
	out := map[[2]int]bool{}
	for _, a := range txns {
		for _, b := range txns {
			if r, ok := ret[a.ID]; ok && r < inv[b.ID] {
				out[[2]int{a.ID, b.ID}] = true
			}
		}
	}
	return out
}

func reachability(txns []*Txn) map[[2]int]bool {
	succ := make([][]int, len(txns))
	for i, t := range txns {
		for _, p := range t.rtPreds {
			succ[p] = append(succ[p], i)
		}
	}
	out := map[[2]int]bool{}
	for i := range txns {
		stack := slices.Clone(succ[i])
		seen := map[int]bool{}
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[v] {
				continue
			}
			seen[v] = true
			out[[2]int{txns[i].ID, txns[v].ID}] = true
			stack = append(stack, succ[v]...)
		}
	}
	return out
}

func ExampleCheck() {
	h := (&hist{}).txn(0, "a x 1").txn(1, "r x")
	res, _ := Check(h.events)
	fmt.Println(res.StrictSerializable, res.Serializable)
	fmt.Println(res.Report(0))
	// Output:
	// false true
	// G-single-realtime: T1 (process 0: [append x 1]) -rt-> T3 (process 1: [r x []]) -rw(x)-> T1
}
