package pod

import (
	"errors"
	"fmt"
)

// State is where a pod is in its lifecycle.
type State string

// The pod states, in lifecycle order.
const (
	Embryo    State = "embryo"    // created, nothing done yet
	Preparing State = "preparing" // rendering roots, writing the pod manifest
	Aborted   State = "aborted"   // preparation failed; only gc may follow
	Prepared  State = "prepared"  // ready to run
	Running   State = "running"   // the pod's processes exist
	Exited    State = "exited"    // every process of the pod has ended; status recorded
	Garbage   State = "garbage"   // marked for removal; its resources are being released
)

// Event moves a pod from one state to the next.
type Event string

// The lifecycle events.
const (
	EvPrepare     Event = "prepare"      // embryo -> preparing
	EvPrepared    Event = "prepared"     // preparing -> prepared
	EvPrepareFail Event = "prepare-fail" // preparing -> aborted
	EvStart       Event = "start"        // prepared -> running
	EvStartFail   Event = "start-fail"   // prepared -> exited (nothing ran; status says why)
	EvExit        Event = "exit"         // running -> exited
	EvCollect     Event = "collect"      // exited, aborted -> garbage
)

// ErrTransition reports an event that is not allowed in the pod's current state.
var ErrTransition = errors.New("pod: illegal transition")

var transitions = map[State]map[Event]State{
	Embryo:    {EvPrepare: Preparing},
	Preparing: {EvPrepared: Prepared, EvPrepareFail: Aborted},
	Prepared:  {EvStart: Running, EvStartFail: Exited},
	Running:   {EvExit: Exited},
	Exited:    {EvCollect: Garbage},
	Aborted:   {EvCollect: Garbage},
}

// Next returns the state that event ev leads to from s, or ErrTransition.
func Next(s State, ev Event) (State, error) {
	if to, ok := transitions[s][ev]; ok {
		return to, nil
	}
	return s, fmt.Errorf("%w: %s in state %s", ErrTransition, ev, s)
}

// Valid reports whether s is one of the states above.
func (s State) Valid() bool {
	_, ok := transitions[s]
	return ok || s == Garbage
}

// Final reports whether a pod in state s will never run again.
func (s State) Final() bool { return s == Exited || s == Aborted || s == Garbage }

// ExitStatus is how a pod ended.
type ExitStatus struct {
	Code      int    `json:"code"`               // the app's exit code; 128+N when killed by signal N
	Signal    string `json:"signal,omitempty"`   // the signal that killed the app, if any
	OOMKilled bool   `json:"oomKilled,omitzero"` // the kernel's OOM killer ended it
	Reason    string `json:"reason,omitempty"`   // why the pod ended without its app's say
}

func (e ExitStatus) String() string {
	s := fmt.Sprintf("code=%d", e.Code)
	if e.Signal != "" {
		s += " signal=" + e.Signal
	}
	if e.OOMKilled {
		s += " oom"
	}
	if e.Reason != "" {
		s += fmt.Sprintf(" reason=%q", e.Reason)
	}
	return s
}
