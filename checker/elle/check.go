package elle

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/orrery/orrery/checker/history"
)

// Model is the name `orrery check --model` knows this checker by.
const Model = "append"

// The anomalies that are not cycles (the cycle classes are G0, G1c, GSingle, G2 and their
// "-realtime" forms).
const (
	G1a               = "G1a"                // a read saw an element a failed transaction appended
	G1b               = "G1b"                // a read ended in an element its writer appended over later
	Internal          = "internal"           // a read disagrees with its own transaction's earlier micro-ops
	IncompatibleOrder = "incompatible-order" // two reads of a key that no single list explains
	Duplicates        = "duplicate-elements" // a read held an element twice
	Garbage           = "garbage"            // a read held an element nobody appended
)

// Anomaly is one problem found, with its explanation.
type Anomaly struct {
	Kind string
	// Txns are the transactions involved, by ID; for a cycle, in its order.
	Txns []int
	// Text explains it for people; a cycle is spelled out edge by edge:
	// T3 (process 2: [append x 4] [r y [1]]) -rw(y)-> T5 (process 1: ...) -wr(x)-> T3.
	Text string
}

func (a Anomaly) String() string { return a.Kind + ": " + a.Text }

// Realtime reports whether the anomaly is a cycle that needs real-time edges: it breaks
// strict serializability but not serializability.
func (a Anomaly) Realtime() bool { return strings.HasSuffix(a.Kind, "-realtime") }

// Result is the verdict on a history.
type Result struct {
	Txns int // transactions checked: ok and info (failed ones are dropped)
	Keys int // keys they touch
	// Serializable: no anomaly but the realtime cycles. StrictSerializable: none at all.
	Serializable, StrictSerializable bool
	Anomalies                        []Anomaly
}

// Report lists the anomalies, at most limit of them (0: all) and a count of the rest.
func (r Result) Report(limit int) string {
	var b strings.Builder
	for i, a := range r.Anomalies {
		if limit > 0 && i == limit {
			fmt.Fprintf(&b, "... and %d more anomalies\n", len(r.Anomalies)-limit)
			break
		}
		b.WriteString(a.String() + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// Kinds lists the kinds of anomaly found, sorted, each once.
func (r Result) Kinds() []string {
	var out []string
	for _, a := range r.Anomalies {
		out = append(out, a.Kind)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Check checks a list-append history (every operation a transaction, f "txn"). The error
// is a *history.Error for a history that breaks the protocol, or wraps ErrBadTxn for a
// value that is not a transaction or an element appended twice to one key; anomalies
// are not errors but the Result.
func Check(events []history.Event) (Result, error) {
	a, err := analyse(events)
	if err != nil {
		return Result{}, err
	}
	a.cycles()
	return a.result(), nil
}

// analyse finds every anomaly but the cycles and builds the dependency graph.
func analyse(events []history.Event) (*analysis, error) {
	txns, failed, err := load(events)
	if err != nil {
		return nil, err
	}
	a, err := newAnalysis(txns, failed)
	if err != nil {
		return nil, err
	}
	a.internal()
	for _, key := range a.keyOrder {
		a.inferKey(a.keys[key])
	}
	a.realtimeEdges()
	a.g.seal()
	return a, nil
}

// analysis holds what Check learns on its way.
type analysis struct {
	txns      []*Txn // checked: ok and info
	keys      map[string]*keyState
	keyOrder  []string // sorted
	g         *graph
	anomalies []Anomaly
}

// keyState is what the history says about one key.
type keyState struct {
	key     string
	writers map[string]writer // element -> who appended it
	reads   []read            // known reads, in transaction order
	appends []string          // elements appended by ok transactions, in transaction order
}

// writer is the transaction that appended an element.
type writer struct {
	txn    *Txn
	index  int  // into the checked transactions; -1 for a failed one
	failed bool // the transaction failed: it took no effect
	final  bool // its last append to this key
}

// read is one known read of a key by an ok transaction.
type read struct {
	txn  int // index into the checked transactions
	list []string
	bad  bool // it holds an element twice: it says nothing about the order
}

func newAnalysis(txns, failed []*Txn) (*analysis, error) {
	a := &analysis{txns: txns, keys: map[string]*keyState{}, g: newGraph(len(txns))}
	for i, t := range txns {
		if err := a.addWrites(t, i); err != nil {
			return nil, err
		}
		for _, m := range t.Mops {
			ks := a.key(m.Key)
			if !m.Append && m.Known {
				ks.reads = append(ks.reads, read{txn: i, list: m.Read})
			}
		}
	}
	for _, t := range failed {
		if err := a.addWrites(t, -1); err != nil {
			return nil, err
		}
	}
	a.keyOrder = slices.Sorted(maps.Keys(a.keys))
	return a, nil
}

func (a *analysis) key(k string) *keyState {
	ks, ok := a.keys[k]
	if !ok {
		ks = &keyState{key: k, writers: map[string]writer{}}
		a.keys[k] = ks
	}
	return ks
}

func (a *analysis) addWrites(t *Txn, index int) error {
	last := map[string]string{} // key -> the transaction's last element appended to it
	for _, m := range t.Mops {
		if m.Append {
			last[m.Key] = m.Elem
		}
	}
	for _, m := range t.Mops {
		if !m.Append {
			continue
		}
		ks, ok := a.keys[m.Key]
		switch {
		case !ok && index < 0:
			continue // a failed append to a key no checked transaction touches: nobody saw it
		case !ok:
			ks = a.key(m.Key)
		}
		if w, dup := ks.writers[m.Elem]; dup {
			return fmt.Errorf("%w: element %s appended to %s twice, by T%d and T%d (elements must be unique per key)",
				ErrBadTxn, m.Elem, m.Key, w.txn.ID, t.ID)
		}
		ks.writers[m.Elem] = writer{txn: t, index: index, failed: index < 0, final: last[m.Key] == m.Elem}
		if t.Outcome == history.OK {
			ks.appends = append(ks.appends, m.Elem)
		}
	}
	return nil
}

func (a *analysis) report(kind string, text string, txns ...*Txn) {
	ids := make([]int, len(txns))
	for i, t := range txns {
		ids[i] = t.ID
	}
	a.anomalies = append(a.anomalies, Anomaly{Kind: kind, Txns: ids, Text: text})
}

// internal checks each ok transaction's reads against its own earlier micro-ops: after
// a read, a key holds that list plus the transaction's appends since; before any read,
// it ends with the transaction's appends so far.
func (a *analysis) internal() {
	for _, t := range a.txns {
		if t.Outcome != history.OK {
			continue
		}
		if text := internalIn(t); text != "" {
			a.report(Internal, t.String()+" "+text, t)
		}
	}
}

func internalIn(t *Txn) string {
	type view struct {
		known bool
		list  []string // the whole list when known, else the suffix the txn appended
	}
	views := map[string]*view{}
	for _, m := range t.Mops {
		v := views[m.Key]
		if v == nil {
			v = &view{}
			views[m.Key] = v
		}
		if m.Append {
			v.list = append(v.list, m.Elem)
			continue
		}
		switch {
		case v.known && !slices.Equal(m.Read, v.list):
			return fmt.Sprintf("read %s as %s, but its own earlier micro-ops make it %s", m.Key, listText(m.Read), listText(v.list))
		case !v.known && !hasSuffix(m.Read, v.list):
			return fmt.Sprintf("read %s as %s, which does not end with its own appends %s", m.Key, listText(m.Read), listText(v.list))
		}
		v.known, v.list = true, slices.Clone(m.Read)
	}
	return ""
}

func hasSuffix(l, suffix []string) bool {
	return len(l) >= len(suffix) && slices.Equal(l[len(l)-len(suffix):], suffix)
}

// result gathers the verdict.
func (a *analysis) result() Result {
	r := Result{Txns: len(a.txns), Keys: len(a.keys), Anomalies: a.anomalies}
	r.StrictSerializable = len(a.anomalies) == 0
	r.Serializable = !slices.ContainsFunc(a.anomalies, func(x Anomaly) bool { return !x.Realtime() })
	return r
}
