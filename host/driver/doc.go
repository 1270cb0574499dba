// Package driver runs a deterministic component (node/component) on a real machine: the
// real-world twin of the simulator's node loop (sim/node.go). One goroutine owns the
// component and hands it one input at a time — the start with what the disk recovered,
// messages from the transport or from local callers, timers firing on the wall clock,
// syncs completed — and executes the effects it returns: sends go to the transport (or,
// addressed to Local, to the local callers), timers become time.AfterFunc, appends and
// removes go to the disk, and syncs run in order on a second goroutine, so that a leader's
// appends reach its followers while its own fsync runs and everything proposed meanwhile
// joins the next sync (group commit). Crash points, fault points and probes are ignored,
// as a real host never fires them; notices go to the caller's Notice function, and Halt
// stops the loop with the halt's reason.
//
// Faults injects a skewed clock and stalled or failing syncs, for fault-injection tests.
//
// The driver makes no protocol decision: what to send, when to retry, whom to trust is
// the component's, so the simulator tests it.
package driver
