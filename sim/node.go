package sim

import (
	"fmt"
	"strings"
	"time"
)

// boot starts a node's process with whatever its disk holds.
func (w *World) boot(n *node) {
	n.incarnation++
	n.syncedTo = -1 // a recovering process may sync what it found
	n.up, n.paused, n.held = true, false, nil
	clear(n.timers)
	n.comp = w.factory(n)(n.id, nodeRand(w.opts.Seed, n.id, n.incarnation))
	rec := n.disk.recover()
	w.deliver(n, Start{Disk: rec})
}

func (w *World) factory(n *node) Factory {
	if n.server {
		return w.sys.Server
	}
	return w.sys.Client
}

// crash kills a node's process: memory is gone, pending disk writes partly survive.
// lastRot says afterwards whether bitrot struck the node's data with it.
func (w *World) crash(n *node, why string) {
	w.lastRot = false
	if !n.up {
		return
	}
	w.logf(n.id, "crash (%s)", why)
	n.up, n.paused, n.held, n.comp, n.leader = false, false, nil, nil, false
	n.disk.crash(n.dsk)
	if w.outside != nil {
		w.outside.Crashed(n.id, time.Duration(w.now))
	}
	if w.rots(n) {
		if file, ok := n.disk.rot(n.dsk); ok {
			w.logf(n.id, "bitrot %s", file)
			w.instant(FaultBitrot, fmt.Sprintf("%s bit flipped in %s", n.id, file))
		}
		w.lastRot = true
	}
}

// restart boots a crashed node, if it is still down.
func (w *World) restart(n *node) {
	if n.up {
		return
	}
	w.logf(n.id, "restart")
	w.boot(n)
}

func (w *World) pause(n *node) {
	if n.up && !n.paused {
		w.logf(n.id, "pause")
		n.paused = true
	}
}

// resume lets a paused node run again; what arrived meanwhile is handled now, in order.
func (w *World) resume(n *node) {
	if !n.up || !n.paused {
		return
	}
	w.logf(n.id, "resume (%d held)", len(n.held))
	n.paused = false
	held := n.held
	n.held = nil
	for _, fn := range held {
		w.at(0, n.id, "held", fn)
	}
}

// dispatch runs fn as an input to node n of incarnation inc: dropped when that process is
// gone, held while it is paused.
func (w *World) dispatch(n *node, inc int, fn func()) {
	switch {
	case !n.up || n.incarnation != inc:
		return
	case n.paused:
		// Re-dispatch on resume: the node may crash before the held input runs.
		n.held = append(n.held, func() { w.dispatch(n, inc, fn) })
	default:
		fn()
	}
}

// deliver hands one input to a running node and executes its effects.
func (w *World) deliver(n *node, in Input) {
	w.log(n.id, "", in.String())
	effs := n.comp.Handle(n.clock.local(w.now), in)
	inc := n.incarnation
	var fired []string
	for _, e := range effs {
		if !n.up || n.incarnation != inc {
			return // an earlier effect halted the node
		}
		switch e := e.(type) {
		case Probe:
			w.probes[e.Name]++
			continue // not traced: probes only count
		case FaultPoint:
			if w.faultPoint(n, e.Name) {
				fired = append(fired, e.Name)
			}
			continue
		}
		w.log(n.id, "  -> ", e.String())
		w.execute(n, e)
	}
	for _, name := range fired {
		if !n.up || n.incarnation != inc {
			return
		}
		w.deliver(n, FaultFired{Name: name})
	}
}

func (w *World) execute(n *node, e Effect) {
	switch e := e.(type) {
	case Send:
		w.cost.Messages++
		w.send(n, e)
	case SetTimer:
		w.setTimer(n, e)
	case CancelTimer:
		delete(n.timers, e.ID)
	case Append:
		w.cost.Written += frameHeader + len(e.Record)
		n.disk.append(e.File, e.Record)
	case Remove:
		n.disk.remove(e.File)
	case Sync:
		w.cost.Syncs++
		w.sync(n, e)
	case Complete:
		w.clients.complete(n.id, e)
	case RoleChanged:
		n.leader = e.Leader
		w.reactToLeader(n)
		w.notice(n, e)
	case Notice:
		w.notice(n, e)
	case Observe:
		w.observations = append(w.observations, Observation{At: time.Duration(w.now), Node: n.id, Incarnation: n.incarnation, Kind: e.Kind, Value: e.Value})
	case CrashPoint:
		w.crashPoint(n, e.Name)
	case Halt:
		w.halt(n, e)
	default:
		w.outsideEffect(n, e)
	}
}

func (w *World) observe(n *node, kind, value string) {
	w.observations = append(w.observations, Observation{At: time.Duration(w.now), Node: n.id, Incarnation: n.incarnation, Kind: kind, Value: value})
}

func (w *World) notice(n *node, e Notice) {
	w.observations = append(w.observations, Observation{At: time.Duration(w.now), Node: n.id, Incarnation: n.incarnation, Kind: "notice", Value: e.String(), Notice: e})
}

// outsideEffect hands an effect the simulator does not know to the system's Outside.
func (w *World) outsideEffect(n *node, e Effect) {
	if w.outside == nil {
		panic(fmt.Sprintf("sim: node %s returned effect %T and the system has no Outside to execute it", n.id, e))
	}
	later, err := w.outside.Apply(n.id, time.Duration(w.now), e, w.out)
	if err != nil {
		panic(fmt.Sprintf("sim: node %s: outside world: %v", n.id, err))
	}
	inc := n.incarnation
	for _, l := range later {
		in := l.In
		w.at(int64(l.After), n.id, "outside", func() {
			w.dispatch(n, inc, func() { w.deliver(n, in) })
		})
	}
}

func (w *World) send(n *node, s Send) {
	if int(s.To) < 1 || int(s.To) >= len(w.nodes) {
		panic(fmt.Sprintf("sim: node %s sent to unknown node %d", n.id, int(s.To)))
	}
	from, to := n.id, w.nodes[s.To]
	msg := s.Msg
	if w.sys.Wire != nil {
		var err error
		if msg, err = w.sys.Wire(s.Msg); err != nil {
			panic(fmt.Sprintf("sim: node %s sent %s, which does not survive its wire form: %v", n.id, s.Msg, err))
		}
	}
	for _, d := range w.net.deliveries(from, s.To) {
		w.at(d, to.id, "deliver", func() {
			if w.net.blocked(from, to.id) {
				return
			}
			inc := to.incarnation
			w.dispatch(to, inc, func() { w.deliver(to, Receive{From: from, Msg: msg}) })
		})
	}
}

func (w *World) setTimer(n *node, t SetTimer) {
	n.timerGen++
	gen, inc := n.timerGen, n.incarnation
	n.timers[t.ID] = gen
	w.at(n.clock.virtualDelay(t.After), n.id, "timer", func() {
		w.dispatch(n, inc, func() {
			if n.timers[t.ID] != gen {
				return // cancelled or re-armed since
			}
			delete(n.timers, t.ID)
			w.deliver(n, TimerFired{ID: t.ID})
		})
	})
}

// sync models fsync: it completes after a drawn latency and covers every write issued
// before it; in the fault phase it may fail, in which case part of the covered writes are
// lost from the page cache, as Linux does after a write-back error.
func (w *World) sync(n *node, s Sync) {
	mark, inc := n.disk.mark(), n.incarnation
	if mark == n.syncedTo {
		if w.emptySyncs == 0 {
			w.firstEmpty = fmt.Sprintf("%s at %v", n.id, time.Duration(w.now))
		}
		w.emptySyncs++
	}
	n.syncedTo = mark
	failed := w.syncFails(n)
	delay := between(n.dsk, int64(50*time.Microsecond), int64(2*time.Millisecond))
	w.at(delay, n.id, "sync", func() {
		w.dispatch(n, inc, func() {
			if failed {
				n.disk.failSync(mark, n.dsk)
				w.instant(FaultSyncFail, n.id.String()+" fsync failed")
				w.deliver(n, Synced{ID: s.ID, Err: ErrSyncFailed})
				return
			}
			n.disk.flush(mark)
			w.deliver(n, Synced{ID: s.ID})
		})
	})
}

// servers returns the server nodes matching keep, in ID order.
func (w *World) servers(keep func(*node) bool) []*node {
	var out []*node
	for _, n := range w.nodes[1 : w.sys.Servers+1] {
		if keep(n) {
			out = append(out, n)
		}
	}
	return out
}

func ids(ns []*node) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = n.id.String()
	}
	return strings.Join(s, ",")
}
