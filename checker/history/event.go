package history

import (
	"bytes"
	"encoding/json"
)

// Type says what an event is: the start of an operation or how it ended.
type Type string

const (
	// Invoke starts an operation.
	Invoke Type = "invoke"
	// OK completes an operation that happened.
	OK Type = "ok"
	// Fail completes an operation that definitely did not happen.
	Fail Type = "fail"
	// Info completes an operation whose outcome is unknown (timeout, lost
	// connection, crash): it may take effect at any later time, or never.
	// The process never invokes again.
	Info Type = "info"
)

// valid reports whether t is one of the four event types.
func (t Type) valid() bool {
	return t == Invoke || t == OK || t == Fail || t == Info
}

// Event is one line of a history.
type Event struct {
	Process int    // logical client, >= 0
	Type    Type   // Invoke, OK, Fail or Info
	F       string // operation name: get, put, cas, delete, or a workload's own
	Key     string // omitted from JSON when empty
	Value   Value
	Time    int64 // nanoseconds, >= 0, never decreasing along a history
	// Extra holds the fields a workload adds (e.g. "revision", "lease"),
	// as compact JSON. Nil when there are none.
	Extra map[string]json.RawMessage
}

// Equal reports whether e and o are the same event. A nil and an empty Extra
// are equal, and Extra values are compared byte for byte.
func (e Event) Equal(o Event) bool {
	if e.Process != o.Process || e.Type != o.Type || e.F != o.F || e.Key != o.Key ||
		e.Time != o.Time || !e.Value.Equal(o.Value) || len(e.Extra) != len(o.Extra) {
		return false
	}
	//det:unordered every entry must match; the answer does not depend on the order checked
	for k, v := range e.Extra {
		w, ok := o.Extra[k]
		if !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}
