package harness

import (
	"fmt"
	"time"

	"github.com/orrery/orrery/sim"
)

// Divergence is the first event at which two runs of the same seed and options differ.
type Divergence struct {
	Index         int // of the hashed line, counted from 0
	At            time.Duration
	Node          sim.NodeID
	First, Second string // the line in each run; "" when that run had ended
	HashA, HashB  string
}

func (d *Divergence) String() string {
	node := "world"
	if d.Node != 0 {
		node = d.Node.String()
	}
	return fmt.Sprintf("runs diverge at event %d (virtual time %v, %s):\n  first run:  %s\n  second run: %s\n  trace hashes: %s, %s",
		d.Index, d.At, node, orEnd(d.First), orEnd(d.Second), d.HashA, d.HashB)
}

func orEnd(s string) string {
	if s == "" {
		return "(run ended)"
	}
	return s
}

type traced struct {
	at   time.Duration
	node sim.NodeID
	line string
}

// CheckDeterminism runs the world twice and compares every hashed event. It returns the
// first outcome, and the first divergence or nil. A panicking run is compared up to the
// panic.
func CheckDeterminism(sys sim.System, opts sim.Options, chk Checker) (Outcome, *Divergence, error) {
	var a, b []traced
	oa, ob := opts, opts
	oa.Events = func(at time.Duration, node sim.NodeID, line string) { a = append(a, traced{at, node, line}) }
	ob.Events = func(at time.Duration, node sim.NodeID, line string) { b = append(b, traced{at, node, line}) }
	out, err := RunSeed(sys, oa, chk)
	if err != nil {
		return out, nil, err
	}
	res, _, err := runGuarded(sys, ob)
	if err != nil {
		return out, nil, err
	}
	return out, firstDivergence(a, b, out.Result.TraceHash, res.TraceHash), nil
}

func firstDivergence(a, b []traced, ha, hb string) *Divergence {
	for i := range max(len(a), len(b)) {
		var x, y traced
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			d := &Divergence{Index: i, At: x.at, Node: x.node, First: x.line, Second: y.line, HashA: ha, HashB: hb}
			if x.line == "" {
				d.At, d.Node = y.at, y.node
			}
			return d
		}
	}
	if ha != hb {
		return &Divergence{Index: len(a), HashA: ha, HashB: hb}
	}
	return nil
}
