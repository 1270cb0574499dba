package pod

import (
	"time"

	"github.com/orrery/orrery/node/component"
)

func (m *Manager) request(now time.Duration, from component.NodeID, req Request) {
	r := m.pods[req.Pod]
	switch req.F {
	case OpRun:
		if r == nil {
			r = &podRec{Pod: req.Pod, Image: req.Image, State: Embryo}
			m.pods[req.Pod] = r
			m.transition(now, r, EvPrepare)
			m.act(KindPrepare, r)
		}
		m.reply(from, req.OpID, describe(r))
	case OpStop:
		if r != nil && r.State == Running {
			m.act(KindStop, r)
		}
		m.reply(from, req.OpID, describe(r))
	case OpStatus:
		m.reply(from, req.OpID, describe(r))
	case OpWait:
		if r == nil || r.State.Final() {
			m.reply(from, req.OpID, describe(r))
			return
		}
		m.waiters[req.Pod] = append(m.waiters[req.Pod], waiter{from: from, op: req.OpID})
	case OpGC:
		m.reply(from, req.OpID, m.collect(now))
	}
}

// collect marks every pod that ended at least grace ago as garbage and asks for cleanup.
func (m *Manager) collect(now time.Duration) string {
	n := 0
	for _, name := range m.names() {
		r := m.pods[name]
		if (r.State == Exited || r.State == Aborted) && now-time.Duration(r.EndedAt) >= m.grace {
			m.transition(now, r, EvCollect)
			m.act(KindCleanup, r)
			n++
		}
	}
	return "collected " + itoa(n)
}

func (m *Manager) outcome(now time.Duration, o Outcome) {
	r := m.pods[o.Pod]
	if r == nil || r.Removed {
		return // a pod this Manager never durably created: the runtime acted on nothing
	}
	switch o.Kind {
	case OutPrepared:
		if m.transition(now, r, EvPrepared) {
			m.act(KindStart, r)
		}
	case OutPrepareFailed:
		r.Status = ExitStatus{Code: -1, Reason: o.Err}
		m.transition(now, r, EvPrepareFail)
	case OutStarted:
		m.transition(now, r, EvStart)
	case OutStartFailed:
		r.Status = ExitStatus{Code: -1, Reason: o.Err}
		m.transition(now, r, EvStartFail)
	case OutExited:
		m.exited(now, r, o.Status)
	case OutProbed:
		m.probed(now, r, o)
	case OutCleaned:
		if r.State == Garbage {
			r.Removed = true
			m.persist(r)
		}
	}
}

// exited records a pod's end; an exit may overtake the start report it follows.
func (m *Manager) exited(now time.Duration, r *podRec, st ExitStatus) {
	if r.State == Prepared {
		m.transition(now, r, EvStart)
	}
	if r.State == Running {
		r.Status = st
		m.transition(now, r, EvExit)
	}
}

// probed reconciles a pod this Manager recovered with what the runtime knows of it.
func (m *Manager) probed(now time.Duration, r *podRec, o Outcome) {
	switch {
	case o.Seen == Garbage:
		// The runtime has already cleaned it up; a lost record made it look alive here.
		r.State, r.Removed = Garbage, true
		m.persist(r)
	case r.State == Garbage:
		m.act(KindCleanup, r)
	case r.State.Final():
		// Ended here: a later report cannot change how it ended.
	case o.Seen == Exited:
		if r.State == Preparing {
			m.transition(now, r, EvPrepared)
		}
		m.exited(now, r, o.Status)
	case o.Seen == Running:
		if r.State == Preparing {
			m.transition(now, r, EvPrepared)
		}
		if r.State == Prepared {
			m.transition(now, r, EvStart)
		}
	case r.State == Preparing:
		m.act(KindPrepare, r) // the runtime never finished (or never heard of) it
	case r.State == Prepared:
		m.act(KindStart, r)
	case r.State == Running:
		// The runtime has no trace of a pod this Manager saw running: it ended unobserved.
		r.Status = ExitStatus{Code: -1, Reason: "lost by the runtime"}
		m.transition(now, r, EvExit)
	}
}

func (m *Manager) wake(r *podRec) {
	for _, w := range m.waiters[r.Pod] {
		m.reply(w.from, w.op, describe(r))
	}
	delete(m.waiters, r.Pod)
}

// describe is the Reply value for a pod: its state, and its exit status once ended.
func describe(r *podRec) string {
	switch {
	case r == nil:
		return "unknown"
	case r.Removed:
		return "removed " + r.Status.String()
	case r.State == Exited, r.State == Aborted, r.State == Garbage:
		return string(r.State) + " " + r.Status.String()
	}
	return string(r.State)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
