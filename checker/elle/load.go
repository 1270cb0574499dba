package elle

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/orrery/orrery/checker/history"
)

// Txn is one transaction of a history.
type Txn struct {
	// ID names the transaction in reports, T<ID>: the 1-based position of its invocation
	// among the history's events, which is its line in a history file without blank lines.
	ID      int
	Process int
	Outcome history.Type // OK, Fail or Info (an invocation never completed is Info)
	// Mops are the completion's micro-ops for an ok transaction (reads known), the
	// invocation's otherwise: an info transaction's reads were never seen.
	Mops []Mop
	// rtPreds are the transactions (indices into the checked list) that completed ok
	// before this one was invoked and that no other such transaction followed in real
	// time: the real-time order's transitive reduction (see realtime).
	rtPreds []int
}

// String names the transaction with its process, outcome (unless ok) and micro-ops:
// T3 (process 2: [append x 4] [r y [1]]).
func (t *Txn) String() string {
	var b strings.Builder
	b.WriteString("T" + strconv.Itoa(t.ID) + " (process " + strconv.Itoa(t.Process))
	switch t.Outcome {
	case history.Info:
		b.WriteString(", info")
	case history.Fail:
		b.WriteString(", failed")
	}
	b.WriteString(":")
	for _, m := range t.Mops {
		b.WriteString(" " + m.String())
	}
	b.WriteString(")")
	return b.String()
}

// load pairs the events into transactions and computes the real-time order among them.
// Failed transactions come back apart: they took no effect, and matter only to G1a.
func load(events []history.Event) (checked, failed []*Txn, err error) {
	ops, err := history.Pair(events)
	if err != nil {
		return nil, nil, err
	}
	index := make(map[int]*Txn, len(ops)) // invoke event -> transaction
	for _, op := range ops {
		t, err := txnOf(op)
		if err != nil {
			return nil, nil, err
		}
		index[op.Event] = t
		if t.Outcome == history.Fail {
			failed = append(failed, t)
		} else {
			checked = append(checked, t)
		}
	}
	realtime(events, index, checked)
	return checked, failed, nil
}

func txnOf(op history.Op) (*Txn, error) {
	name := fmt.Sprintf("transaction of process %d (event %d)", op.Process, op.Event+1)
	if op.F != F {
		return nil, fmt.Errorf("%w: %s has f %q, want %q", ErrBadTxn, name, op.F, F)
	}
	invoked, err := Decode(op.Input)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	t := &Txn{ID: op.Event + 1, Process: op.Process, Outcome: op.Outcome, Mops: invoked}
	if op.Outcome != history.OK {
		for i := range t.Mops {
			t.Mops[i].Read, t.Mops[i].Known = nil, false
		}
		return t, nil
	}
	completed, err := Decode(op.Output)
	if err != nil {
		return nil, fmt.Errorf("%s completion: %w", name, err)
	}
	if !sameShape(invoked, completed) {
		return nil, fmt.Errorf("%w: %s completed as %s, invoked as %s", ErrBadTxn, name, op.Output, op.Input)
	}
	for i := range completed {
		if !completed[i].Append && !completed[i].Known {
			// A committed read of a key that does not exist: Jepsen writes nil for it.
			completed[i].Read, completed[i].Known = []string{}, true
		}
	}
	t.Mops = completed
	return t, nil
}

// realtime fills in rtPreds by walking the events in order. The frontier holds the ok
// transactions completed so far that no later-invoked, already completed transaction
// follows; a transaction invoked now follows every one of them. When it completes, it
// replaces in the frontier the ones it follows, which stay reachable through it. So every
// pair "A completed before B was invoked" is a path, and the edges stay few (about the
// concurrency per transaction) instead of quadratic. Info transactions never complete:
// nothing follows them in real time.
func realtime(events []history.Event, index map[int]*Txn, checked []*Txn) {
	pos := make(map[*Txn]int, len(checked))
	for i, t := range checked {
		pos[t] = i
	}
	open := map[int]*Txn{} // process -> its open transaction
	var frontier []int     // indices into checked, in completion order
	for i, e := range events {
		if e.Type == history.Invoke {
			t := index[i]
			open[e.Process] = t
			if t.Outcome != history.Fail {
				t.rtPreds = append([]int(nil), frontier...)
			}
			continue
		}
		t := open[e.Process]
		delete(open, e.Process)
		if e.Type != history.OK {
			continue
		}
		covered := make(map[int]bool, len(t.rtPreds))
		for _, p := range t.rtPreds {
			covered[p] = true
		}
		kept := frontier[:0]
		for _, f := range frontier {
			if !covered[f] {
				kept = append(kept, f)
			}
		}
		frontier = append(kept, pos[t])
	}
}
