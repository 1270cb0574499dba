package history

import "fmt"

// Recorder builds a history while a test runs. It checks the protocol as
// events arrive and panics on misuse (completing a process with nothing
// open, invoking twice, invoking after info, time going backwards): those
// are bugs in the harness, not in the system under test, and a history that
// breaks the protocol would only be rejected later, far from the cause.
//
// The zero Recorder is ready to use. It is not safe for concurrent use; the
// simulator drives it from its single thread.
type Recorder struct {
	events []Event
	p      protocol
}

// Invoke records that process started operation f on key with input v at
// time t.
func (r *Recorder) Invoke(process int, f, key string, v Value, t int64) {
	r.Append(Event{Process: process, Type: Invoke, F: f, Key: key, Value: v, Time: t})
}

// Complete records how the open operation of process ended: typ is OK, Fail
// or Info, v the result (for a get, the value read). The operation name and
// key are taken from the invoke.
func (r *Recorder) Complete(process int, typ Type, v Value, t int64) {
	if typ == Invoke || !typ.valid() {
		panic(fmt.Sprintf("history: Recorder.Complete(process %d): %q is not a completion type", process, typ))
	}
	op, ok := r.p.open[process]
	if !ok {
		panic(fmt.Sprintf("history: Recorder.Complete(process %d, %s): process has no open operation", process, typ))
	}
	invoke := r.events[op.pos-1]
	r.Append(Event{Process: process, Type: typ, F: invoke.F, Key: invoke.Key, Value: v, Time: t})
}

// Append records a prepared event, for workloads that carry Extra fields.
// It panics if e breaks the protocol.
func (r *Recorder) Append(e Event) {
	if err := r.p.step(e, len(r.events)+1, "event"); err != nil {
		panic(fmt.Sprintf("history: Recorder: %s: %s", err.Where, err.Problem))
	}
	r.events = append(r.events, e)
}

// Events returns the history so far. The slice is a copy; the Extra maps
// are shared with the Recorder and must not be modified.
func (r *Recorder) Events() []Event {
	return append([]Event(nil), r.events...)
}
