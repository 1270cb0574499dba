package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// System says what runs in a world: how to build server and client components, and what the
// clients do. A System is a value; the world never mutates it.
type System struct {
	Name    string
	Servers int // nodes 1..Servers
	Clients int // nodes Servers+1..Servers+Clients; each is one logical client at a time
	Server  Factory
	Client  Factory
	// Workload returns a fresh generator for each run (generators keep state, and one
	// System may run many seeds, concurrently).
	Workload func() Generator
	// Model names the checker model the history is checked against ("register", "kv");
	// "" skips the linearizability check (a workload judged by Invariants alone).
	Model string
	// Checked, when set, picks the operations (by f) the Model checks; the rest (a lock
	// workload's operations in a mixed run) are judged by Invariants. nil: all of them.
	Checked func(f string) bool
	// Invariants, when set, checks a finished run beyond linearizability (lock holders never
	// overlap, a unit runs on at most one machine...). It returns nil or the violation.
	Invariants func(Result) error
	// Outside, when set, returns a fresh simulated outside world per run; it executes the
	// effects the simulator does not know itself (start a pod, program a route).
	Outside func() Outside
	// Points declares the crash points, fault points and probes the components mark, so
	// that coverage reports list the ones never reached too.
	Points Points
	// StrictSyncs: every Sync must cover a write the process issued since its previous
	// one. An fsync with nothing to flush is harmless to safety but costs a real disk a
	// flush; correct raft servers never ask for one, so a run that does fails.
	StrictSyncs bool
	// Wire, when set, is the messages' wire form: every message sent goes through it
	// (encoded and decoded) and the decoded copy is what arrives, so that a field the
	// codec loses changes what the run does. An error is a codec bug: the run panics.
	Wire func(Message) (Message, error)
}

// Outside simulates the world beyond the network and the disk for component-specific
// effects. It must be deterministic: draw only from the given source.
type Outside interface {
	// Apply executes effect e of node at virtual time now and returns the inputs the node
	// will receive as a result, each after its delay (a pod that exits, a route that
	// failed). Apply returns an error for an effect it does not understand.
	Apply(node NodeID, now time.Duration, e Effect, r *rand.Rand) ([]Later, error)
	// Crashed tells the outside world that node's process died (so that, for example, the
	// pods it supervised lose their supervisor).
	Crashed(node NodeID, now time.Duration)
}

// Later is an input the outside world delivers after a delay.
type Later struct {
	After time.Duration
	In    Input
}

// Generator draws client operations. The world assigns operation IDs.
type Generator interface {
	// Next returns the next operation a client performs while faults are active.
	Next(r *rand.Rand, client int) Op
	// Final returns the operation a client performs after the faults stop; it must
	// complete within the liveness bound.
	Final(r *rand.Rand, client int) Op
}

// Validate reports the first thing wrong with the system's definition.
func (s System) Validate() error {
	switch {
	case s.Servers < 1:
		return fmt.Errorf("sim: system %q needs at least one server, has %d", s.Name, s.Servers)
	case s.Clients < 1:
		return fmt.Errorf("sim: system %q needs at least one client, has %d", s.Name, s.Clients)
	case s.Server == nil || s.Client == nil:
		return fmt.Errorf("sim: system %q needs both a Server and a Client factory", s.Name)
	case s.Workload == nil:
		return fmt.Errorf("sim: system %q has no Workload", s.Name)
	}
	return nil
}

// Options are the knobs of one run besides the system itself.
type Options struct {
	Seed   uint64
	Ops    int      // client operations while faults are active; 0 means 200
	Faults FaultSet // which faults; the zero value injects none
	// OpTimeout is when a client gives up on an operation and records it as indefinite;
	// 0 means DefaultOpTimeout.
	OpTimeout time.Duration
	// Liveness bounds how long, after the faults stop, the final operations may take;
	// 0 means DefaultLiveness.
	Liveness time.Duration
	// MaxEvents stops a run that never ends (a message storm); 0 means 500,000, some
	// twenty times what the longest normal run of 200 operations takes.
	MaxEvents int
	// Trace, when set, receives one line per processed event (and per effect).
	Trace func(line string)
	// Events, when set, receives every line the trace hash covers, with its virtual time
	// and node (0 for the world), in order: what the determinism check compares.
	Events func(at time.Duration, node NodeID, line string)
	// Script, when set, replaces the seeded clients and nemesis: the world runs the
	// script's operations and fault steps (see Script for what the seed still decides).
	// Ops and Faults are then ignored.
	Script *Script
}

// The defaults of Options.OpTimeout and Options.Liveness.
const (
	DefaultOpTimeout = time.Second
	DefaultLiveness  = 10 * time.Second
)

func (o Options) withDefaults() Options {
	if o.Ops == 0 {
		o.Ops = 200
	}
	if o.OpTimeout == 0 {
		o.OpTimeout = DefaultOpTimeout
	}
	if o.Liveness == 0 {
		o.Liveness = DefaultLiveness
	}
	if o.MaxEvents == 0 {
		o.MaxEvents = 500_000
	}
	return o
}

// ErrLiveness marks a run in which the system did not finish its work once faults stopped.
var ErrLiveness = errors.New("liveness")
