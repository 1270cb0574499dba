package component

import (
	"strconv"
	"strings"
)

// Value is the payload of a client operation and of its completion: null, a string, or a
// list of values (a cas carries [expected, new]). The zero Value is null. Values are
// immutable: constructors and accessors copy lists, so a Value can be shared freely.
//
// A component sees only this shape; the driver that records histories translates it into
// its history format.
type Value struct {
	kind valueKind
	s    string
	list []Value
}

type valueKind uint8

const (
	kindNull valueKind = iota // the zero Value is null
	kindStr
	kindList
)

// Null returns the null value (an absent key, or no payload).
func Null() Value { return Value{} }

// Str returns a string value.
func Str(s string) Value { return Value{kind: kindStr, s: s} }

// List returns a list value holding copies of vs.
func List(vs ...Value) Value {
	var list []Value // nil for the empty list, so every empty list is deeply equal
	if len(vs) > 0 {
		list = append([]Value(nil), vs...)
	}
	return Value{kind: kindList, list: list}
}

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.kind == kindNull }

// Str returns the string held by v and whether v is a string.
func (v Value) Str() (string, bool) { return v.s, v.kind == kindStr }

// List returns a copy of the elements of v and whether v is a list.
func (v Value) List() ([]Value, bool) {
	if v.kind != kindList {
		return nil, false
	}
	return append([]Value(nil), v.list...), true
}

// Equal reports whether v and o are the same value.
func (v Value) Equal(o Value) bool {
	if v.kind != o.kind || v.s != o.s || len(v.list) != len(o.list) {
		return false
	}
	for i := range v.list {
		if !v.list[i].Equal(o.list[i]) {
			return false
		}
	}
	return true
}

// String renders v for traces: null, a quoted string, or a bracketed list, so the string
// "null" and the null value never look alike. It feeds the trace hash: keep it stable.
func (v Value) String() string {
	switch v.kind {
	case kindStr:
		return strconv.Quote(v.s)
	case kindList:
		parts := make([]string, len(v.list))
		for i, e := range v.list {
			parts[i] = e.String()
		}
		return "[" + strings.Join(parts, ", ") + "]"
	default:
		return "null"
	}
}

// Outcome is how a component completes an operation: it definitely happened (OK), it
// definitely did not (Fail), or the component gave up knowing (Info: it may have happened
// or may still). A component that gives up may simply not complete and let the driver's
// timeout record the operation as indefinite; completing it as Info itself lets it say
// what it attempted in the value (a membership change's target, chosen when invoked).
// The zero Outcome is invalid.
type Outcome uint8

// The outcomes.
const (
	OK Outcome = iota + 1
	Fail
	Info
)

// String renders the outcome as "ok", "fail" or "info". It feeds the trace hash: keep it
// stable.
func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Fail:
		return "fail"
	case Info:
		return "info"
	}
	return "outcome(" + strconv.Itoa(int(o)) + ")"
}
