package fleet

import "fmt"

// State is a unit's desired state, fleet's three: a unit is submitted (inactive), loaded
// on a machine (loaded), or loaded and started (launched).
type State string

const (
	Inactive State = "inactive"
	Loaded   State = "loaded"
	Launched State = "launched"
)

// ParseState reads a desired state as fleetctl prints it.
func ParseState(s string) (State, error) {
	switch st := State(s); st {
	case Inactive, Loaded, Launched:
		return st, nil
	}
	return "", fmt.Errorf("unknown unit state %q (known: inactive, loaded, launched)", s)
}
