package jepsen

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/orrery/orrery/checker"
	"github.com/orrery/orrery/checker/history"
)

// workload generates operations and judges their history. The runner calls open once
// the cluster is up, op from every client goroutine (concurrently, each with its own
// client) during the faulty phase, finish after the cluster has healed, and check last.
type workload interface {
	// open prepares the workload; it may start goroutines (watchers) that record into
	// e.rec under their own processes until finish.
	open(ctx context.Context, e *env) error
	// op performs one or a few recorded operations as client c.
	op(ctx context.Context, c *client)
	// closeClient releases what the workload kept for c (sessions).
	closeClient(c *client)
	// finish runs the final operations (final reads, watcher catch-up).
	finish(ctx context.Context, e *env) error
	// check judges the history.
	check(events []history.Event, opts checker.Options) (verdictReport, error)
}

// verdictReport is a workload's verdict and what summary.json shows about it.
type verdictReport struct {
	valid   Validity
	summary string         // one line for the CLI
	details map[string]any // summary.json's "checker"
	vis     *checker.Result
}

// Workloads lists the workload names Run accepts.
func Workloads() []string { return []string{"append", "lock", "register", "set", "watch"} }

func newWorkload(name string) (workload, error) {
	switch name {
	case "register":
		return &registerWorkload{keys: 5, perKey: 200}, nil
	case "set":
		return &setWorkload{}, nil
	case "watch":
		return &watchWorkload{watchers: 3}, nil
	case "lock":
		return &lockWorkload{}, nil
	case "append":
		return &appendWorkload{keys: 5}, nil
	}
	return nil, fmt.Errorf("jepsen: unknown workload %q (want one of %s)", name, strings.Join(Workloads(), ", "))
}

// Validity is a run's verdict: valid, invalid, or unknown (the checker could not decide,
// or the run did not gather what it needed). It encodes as JSON true, false or "unknown".
type Validity string

// The three verdicts.
const (
	Valid   Validity = "true"
	Invalid Validity = "false"
	Unknown Validity = "unknown"
)

// MarshalJSON writes true, false or "unknown".
func (v Validity) MarshalJSON() ([]byte, error) {
	switch v {
	case Valid, Invalid:
		return []byte(v), nil
	}
	return []byte(`"unknown"`), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (v *Validity) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true":
		*v = Valid
	case "false":
		*v = Invalid
	default:
		*v = Unknown
	}
	return nil
}

// worst combines verdicts: invalid beats unknown beats valid.
func worst(vs ...Validity) Validity {
	rank := func(v Validity) int { return slices.Index([]Validity{Valid, Unknown, Invalid}, v) }
	out := Valid
	for _, v := range vs {
		if rank(v) > rank(out) {
			out = v
		}
	}
	return out
}
