package sim

import (
	"fmt"

	"github.com/orrery/orrery/checker/history"
	"github.com/orrery/orrery/node/component"
)

// Components know no history format: operations carry a component.Value and complete with
// a component.Outcome. The simulator records histories, so the translation lives here.

// Operation payloads and outcomes, spelled sim.X like the rest of the contract.
type (
	Value   = component.Value
	Outcome = component.Outcome
)

// The outcomes of a Complete.
const (
	OK   = component.OK
	Fail = component.Fail
)

// Null, Str and List build operation values (see component.Value).
func Null() Value            { return component.Null() }
func Str(s string) Value     { return component.Str(s) }
func List(vs ...Value) Value { return component.List(vs...) }

// HistoryValue translates an operation's value into the history format.
func HistoryValue(v Value) history.Value {
	if s, ok := v.Str(); ok {
		return history.Str(s)
	}
	if list, ok := v.List(); ok {
		out := make([]history.Value, len(list))
		for i, e := range list {
			out[i] = HistoryValue(e)
		}
		return history.List(out...)
	}
	return history.Null()
}

// OpValue translates a history value (a script's, or one a workload decodes) into an
// operation's value.
func OpValue(v history.Value) Value {
	if s, ok := v.Str(); ok {
		return component.Str(s)
	}
	if list, ok := v.List(); ok {
		out := make([]Value, len(list))
		for i, e := range list {
			out[i] = OpValue(e)
		}
		return component.List(out...)
	}
	return component.Null()
}

// HistoryType is the completion type an outcome is recorded as; a component that completes
// with an invalid outcome has broken the contract.
func HistoryType(o Outcome) (history.Type, error) {
	switch o {
	case component.OK:
		return history.OK, nil
	case component.Fail:
		return history.Fail, nil
	case component.Info:
		return history.Info, nil
	}
	return "", fmt.Errorf("sim: outcome %s (want ok, fail or info)", o)
}
