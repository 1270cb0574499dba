package elle

import (
	"errors"
	"fmt"
	"strings"

	"github.com/orrery/orrery/checker/history"
)

// F is the operation name of a list-append transaction in a history.
const F = "txn"

// The micro-operation names, as Jepsen writes them.
const (
	FAppend = "append"
	FRead   = "r"
)

// ErrBadTxn is returned for a transaction value that is not a list of micro-ops, or a
// history that breaks the model's assumptions (an element appended twice to one key).
var ErrBadTxn = errors.New("elle: bad transaction")

// Mop is one micro-operation: an append of Elem to the list at Key, or a read of that list.
type Mop struct {
	Append bool
	Key    string
	Elem   string   // the appended element; "" for a read
	Read   []string // the list read; nil when not known (an invocation, an info op)
	Known  bool     // a read whose result was seen (a completed ok transaction)
}

// String renders a micro-op as Elle prints it: [append x 4], [r y [1 2]], [r y ?].
func (m Mop) String() string {
	switch {
	case m.Append:
		return fmt.Sprintf("[append %s %s]", m.Key, m.Elem)
	case !m.Known:
		return fmt.Sprintf("[r %s ?]", m.Key)
	}
	return fmt.Sprintf("[r %s %s]", m.Key, listText(m.Read))
}

func listText(l []string) string { return "[" + strings.Join(l, " ") + "]" }

// Decode reads a transaction value: a list of [f, key, value] triples, f "append" with a
// string element, or f "r" with null or a list of string elements. A null read is not
// known (the invocation's form); a list read is known. Numbers in a history file are read
// as their decimal text by package history, so [["append","x",1]] decodes as element "1".
func Decode(v history.Value) ([]Mop, error) {
	list, ok := v.List()
	if !ok {
		return nil, fmt.Errorf("%w: %s is not a list of micro-ops", ErrBadTxn, v)
	}
	mops := make([]Mop, len(list))
	for i, item := range list {
		m, err := decodeMop(item)
		if err != nil {
			return nil, fmt.Errorf("%w: micro-op %d: %v", ErrBadTxn, i+1, err)
		}
		mops[i] = m
	}
	return mops, nil
}

func decodeMop(v history.Value) (Mop, error) {
	triple, ok := v.List()
	if !ok || len(triple) != 3 {
		return Mop{}, fmt.Errorf("%s is not [f, key, value]", v)
	}
	f, ok1 := triple[0].Str()
	key, ok2 := triple[1].Str()
	if !ok1 || !ok2 {
		return Mop{}, fmt.Errorf("%s: f and key must be strings", v)
	}
	switch f {
	case FAppend:
		elem, ok := triple[2].Str()
		if !ok || elem == "" {
			return Mop{}, fmt.Errorf("%s: an append needs a non-empty element", v)
		}
		return Mop{Append: true, Key: key, Elem: elem}, nil
	case FRead:
		return decodeRead(key, triple[2])
	}
	return Mop{}, fmt.Errorf("%s: f must be %q or %q", v, FAppend, FRead)
}

func decodeRead(key string, v history.Value) (Mop, error) {
	if v.IsNull() {
		return Mop{Key: key}, nil
	}
	elems, ok := v.List()
	if !ok {
		return Mop{}, fmt.Errorf("read of %s: %s is neither null nor a list", key, v)
	}
	read := make([]string, len(elems))
	for i, e := range elems {
		s, ok := e.Str()
		if !ok || s == "" {
			return Mop{}, fmt.Errorf("read of %s: element %s is not a non-empty string", key, e)
		}
		read[i] = s
	}
	return Mop{Key: key, Read: read, Known: true}, nil
}

// Encode is Decode's inverse: the value a history carries for mops.
func Encode(mops []Mop) history.Value {
	out := make([]history.Value, len(mops))
	for i, m := range mops {
		switch {
		case m.Append:
			out[i] = history.List(history.Str(FAppend), history.Str(m.Key), history.Str(m.Elem))
		case m.Known:
			elems := make([]history.Value, len(m.Read))
			for j, e := range m.Read {
				elems[j] = history.Str(e)
			}
			out[i] = history.List(history.Str(FRead), history.Str(m.Key), history.List(elems...))
		default:
			out[i] = history.List(history.Str(FRead), history.Str(m.Key), history.Null())
		}
	}
	return history.List(out...)
}

// sameShape reports whether a completion's micro-ops match the invocation's: the same
// functions on the same keys, the same elements appended. Only the reads may differ.
func sameShape(invoked, completed []Mop) bool {
	if len(invoked) != len(completed) {
		return false
	}
	for i := range invoked {
		a, b := invoked[i], completed[i]
		if a.Append != b.Append || a.Key != b.Key || a.Elem != b.Elem {
			return false
		}
	}
	return true
}
