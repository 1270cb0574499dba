package jepsen

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/orrery/orrery/checker/history"
)

// recorder is a history.Recorder for many goroutines on the wall clock: times are
// nanoseconds since the recorder was made, taken under its lock so they never decrease
// along the history.
type recorder struct {
	start time.Time
	mu    sync.Mutex
	rec   history.Recorder
	inv   map[int]history.Event // open invokes, by process
}

func newRecorder(start time.Time) *recorder {
	return &recorder{start: start, inv: map[int]history.Event{}}
}

// now is the run's clock: nanoseconds since start.
func (r *recorder) now() int64 { return int64(time.Since(r.start)) }

// invoke records the start of an operation.
func (r *recorder) invoke(process int, f, key string, v history.Value) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := history.Event{Process: process, Type: history.Invoke, F: f, Key: key, Value: v, Time: r.now()}
	r.rec.Append(e)
	r.inv[process] = e
}

// complete records how the open operation of process ended; extra holds workload
// fields (e.g. "revision"), nil for none.
func (r *recorder) complete(process int, typ history.Type, v history.Value, extra map[string]json.RawMessage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	inv := r.inv[process]
	delete(r.inv, process)
	r.rec.Append(history.Event{Process: process, Type: typ, F: inv.F, Key: inv.Key, Value: v, Time: r.now(), Extra: extra})
}

// events returns a copy of the history so far.
func (r *recorder) events() []history.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rec.Events()
}
