package sim

import (
	"fmt"
	"time"
)

// The nemesis schedules fault episodes while the fault phase lasts: partitions, crashes,
// pauses and clock jumps, each undone after a drawn duration. Link faults (loss,
// duplication, reordering, delay) are on for the whole fault phase.

func (w *World) episodeKinds() []Fault {
	var out []Fault
	for _, f := range []Fault{FaultPartition, FaultCrash, FaultPause, FaultClock} {
		if w.prof.On[f] {
			out = append(out, f)
		}
	}
	return out
}

func (w *World) scheduleNemesis() {
	if len(w.episodeKinds()) == 0 {
		return
	}
	gap := int64(w.nem.ExpFloat64() * float64(w.prof.NemesisEvery))
	w.at(gap, 0, "nemesis", func() {
		if !w.faulting {
			return
		}
		w.episode()
		w.scheduleNemesis()
	})
}

func (w *World) episode() {
	kinds := w.episodeKinds()
	kind := kinds[w.nem.IntN(len(kinds))]
	length := between(w.nem, int64(10*time.Millisecond), int64(w.prof.EpisodeMax))
	switch kind {
	case FaultPartition:
		w.partitionEpisode(length)
	case FaultCrash:
		if w.nem.IntN(2) == 0 {
			// A quick restart, as under a supervisor: short enough to come back within
			// the same election term, which is where forgotten votes bite.
			length = between(w.nem, int64(time.Millisecond), int64(30*time.Millisecond))
		}
		w.nodeEpisode(FaultCrash, length, func(n *node) bool { return n.up }, func(n *node) { w.crash(n, "nemesis") }, w.restart)
	case FaultPause:
		w.nodeEpisode(FaultPause, length, func(n *node) bool { return n.up && !n.paused }, w.pauseMaybeIsolated, w.resumeAndRejoin)
	case FaultClock:
		n := w.target(w.servers(func(*node) bool { return true }))
		jump := between(w.nem, int64(time.Millisecond), int64(w.prof.ClockJumpMax))
		n.clock.offset += jump
		w.record(Step{Kind: StepClockJump, Node: n.id, Jump: Dur(jump)})
		w.logf(n.id, "clock jumps +%v", time.Duration(jump))
		w.instant(FaultClock, fmt.Sprintf("%s clock +%v", n.id, time.Duration(jump)))
	}
}

func (w *World) partitionEpisode(length int64) {
	kind := partitionKinds[w.nem.IntN(len(partitionKinds))]
	var first NodeID
	if t := w.target(w.servers(func(*node) bool { return true })); t.leader {
		// Against a leader, prefer the shapes that cut it off from a majority.
		first, kind = t.id, []string{"one", "minority", "halves"}[w.nem.IntN(3)]
	}
	w.isolated = 0
	desc := w.net.partition(kind, first)
	step := w.recordPartition(kind, "")
	w.logf(0, "partition %s", desc)
	w.closeWindow("partition") // a new partition replaces the old one
	key := w.openWindow("partition", FaultPartition, desc)
	w.at(length, 0, "heal", func() {
		if i, ok := w.open["partition"]; ok && i == key {
			w.net.heal()
			w.logf(0, "heal")
			w.closeWindow("partition")
			w.endStep(step)
		}
	})
}

// nodeEpisode applies a fault to one random eligible server and undoes it after length.
func (w *World) nodeEpisode(kind Fault, length int64, eligible func(*node) bool, do, undo func(*node)) {
	cands := w.servers(eligible)
	if len(cands) == 0 {
		return
	}
	n := w.target(cands)
	step := w.record(Step{Kind: string(kind), Node: n.id})
	do(n)
	if kind == FaultCrash && w.lastRot && step >= 0 {
		w.tape.Steps[step].Rot = true
	}
	key := fmt.Sprintf("%s-%s", kind, n.id)
	w.openWindow(key, kind, n.id.String())
	w.at(length, n.id, "undo", func() {
		undo(n)
		w.closeWindow(key)
		w.endStep(step)
	})
}

// pauseMaybeIsolated pauses a node; when partitions are on, half the time it also cuts the
// node off from the other servers for the length of the pause (clients still reach it).
// A paused leader that wakes up before it hears of the new leader is the classic source of
// stale reads: the cut keeps the new leader's messages out of its queue.
func (w *World) pauseMaybeIsolated(n *node) {
	w.pause(n)
	if w.prof.On[FaultPartition] && w.nem.IntN(2) == 0 {
		desc := w.net.partition("one", n.id)
		w.recordPartition("one", "")
		w.logf(0, "partition %s", desc)
		w.closeWindow("partition")
		w.openWindow("partition", FaultPartition, desc)
		w.isolated = n.id
	}
}

// resumeAndRejoin resumes a node and heals the cut that pauseMaybeIsolated made, if it is
// still the current one, at the same instant.
func (w *World) resumeAndRejoin(n *node) {
	w.resume(n)
	if w.isolated == n.id {
		w.isolated = 0
		if _, ok := w.open["partition"]; ok {
			w.net.heal()
			w.logf(0, "heal")
			w.closeWindow("partition")
			w.endStep(w.partStep)
		}
	}
}

// reactToLeader reacts to a node announcing that it leads: with the profile's probability
// it crashes the node (restarting it soon after) or cuts it off from the other servers,
// after a delay drawn from [0, LeaderKillWithin). A cut made before the new leader's first
// appends arrive leaves its entries on it alone: the raw material of the raft paper's
// figure 8. Elections, a term's first entries and half-replicated tails are where consensus
// bugs live, and uniform random faults almost never land there.
func (w *World) reactToLeader(n *node) {
	if !w.faulting || !n.leader || !chance(w.nem, w.prof.LeaderKill) {
		return
	}
	var moves []func(*node)
	if w.prof.On[FaultCrash] {
		moves = append(moves, w.killLeader)
	}
	if w.prof.On[FaultPartition] {
		moves = append(moves, w.isolateLeader)
	}
	if len(moves) == 0 {
		return
	}
	move := moves[w.nem.IntN(len(moves))]
	inc := n.incarnation
	w.at(between(w.nem, 0, int64(w.prof.LeaderKillWithin)), n.id, "leader-fault", func() {
		if w.faulting && n.up && n.incarnation == inc {
			move(n)
		}
	})
}

func (w *World) killLeader(n *node) {
	w.crashAndRestart(n, "nemesis: new leader", " (new leader)", 100*time.Millisecond, Step{Kind: StepCrash, Note: " (new leader)"})
}

// crashAndRestart crashes n now and restarts it within upTo, recording the fault window
// and the step s.
func (w *World) crashAndRestart(n *node, why, detail string, upTo time.Duration, s Step) {
	w.crash(n, why)
	s.Node, s.Rot = n.id, w.lastRot
	step := w.record(s)
	key := fmt.Sprintf("%s-%s", FaultCrash, n.id)
	w.openWindow(key, FaultCrash, n.id.String()+detail)
	w.at(between(w.nem, int64(time.Millisecond), int64(upTo)), n.id, "undo", func() {
		w.restart(n)
		w.closeWindow(key)
		w.endStep(step)
	})
}

func (w *World) isolateLeader(n *node) {
	desc := w.net.partition("one", n.id)
	step := w.recordPartition("one", " (new leader)")
	w.logf(0, "partition %s (new leader)", desc)
	w.closeWindow("partition")
	key := w.openWindow("partition", FaultPartition, desc+" (new leader)")
	w.isolated = 0
	w.at(between(w.nem, int64(20*time.Millisecond), int64(500*time.Millisecond)), 0, "heal", func() {
		if i, ok := w.open["partition"]; ok && i == key {
			w.net.heal()
			w.logf(0, "heal")
			w.closeWindow("partition")
			w.endStep(step)
		}
	})
}

// crashPoint crashes a node at a point its component marked, with the profile's
// probability, and restarts it a moment later: a supervisor bringing back a process that
// died between two effects of one step.
func (w *World) crashPoint(n *node, name string) {
	w.points[name]++
	nth := w.reached(n.id, name)
	if w.play != nil {
		w.play.crashPoint(w, n, name, nth)
		return
	}
	if !w.faulting || !chance(w.nem, w.pointRate(name)) {
		return
	}
	w.fired[name]++
	w.crashAndRestart(n, "crash point "+name, " at "+name, 30*time.Millisecond, Step{Kind: StepCrashPoint, Point: name, Nth: nth})
}

// faultPoint decides whether a fault point a component marked fires. Fault points fire
// only in the fault phase of runs whose profile turns them on (half of the swarm runs),
// at a rate each point gets per seed (see faultRate), from the node's own stream, so that
// firing on one node shifts no other draw.
func (w *World) faultPoint(n *node, name string) bool {
	w.faultPoints[name]++
	nth := w.reached(n.id, "fault:"+name)
	if !w.faulting || !w.prof.On[FaultPoints] {
		return false
	}
	if w.play != nil {
		if !w.play.match(StepFaultPoint, n.id, name, w.now, nth) {
			return false
		}
	} else {
		r := w.fpRand[n.id]
		if r == nil {
			r = newStream(w.opts.Seed, streamFaultPoints+uint64(n.id)<<8)
			w.fpRand[n.id] = r
		}
		if !chance(r, faultRate(w.opts.Seed, name)) {
			return false
		}
		w.record(Step{Kind: StepFaultPoint, Node: n.id, Point: name, Nth: nth})
	}
	w.fired[name]++
	w.logf(n.id, "fault point %s fires", name)
	return true
}

// faultRate is how often a fault point fires in a seed's run: as with BUGGIFY, half of the
// points are hot (between 1% and 25% of their reaches) and the rest fire rarely (0.2%).
// It depends only on the seed and the name, not on which point happens to be reached
// first.
func faultRate(seed uint64, name string) float64 {
	h := uint64(14695981039346656037)
	for i := range len(name) {
		h = (h ^ uint64(name[i])) * 1099511628211
	}
	x := splitmix64(seed ^ splitmix64(h))
	if x&1 == 0 {
		return 0.002
	}
	return 0.01 + float64(x>>11)/(1<<53)*0.24
}

// pointRate is how likely a crash point crashes its process in this run. As with
// FoundationDB's BUGGIFY, each point is switched on for half of the runs (decided when
// it is first reached, from the nemesis stream) and then fires at a rate drawn for it; the
// profile's CrashPointRate is the floor for points that are off. Runs that hammer one
// point reach the states behind it; runs that leave it alone reach the states that
// constant crashing there would mask.
func (w *World) pointRate(name string) float64 {
	if w.prof.CrashPointRate == 0 {
		return 0
	}
	rate, ok := w.pointRates[name]
	if !ok {
		rate = w.prof.CrashPointRate
		if w.nem.IntN(2) == 0 {
			rate = 0.01 + w.nem.Float64()*0.49
		}
		w.pointRates[name] = rate
	}
	return rate
}

// target picks the node an episode hits: half the time a node that says it leads (see
// component.Observe, kind "role"), when there is one, otherwise any candidate. Faults that
// hit leaders find far more bugs than faults spread evenly: elections, step-downs and
// half-replicated entries all start there. Jepsen's "isolate the leader" nemesis does the
// same with knowledge of the system; here components volunteer the hint.
func (w *World) target(cands []*node) *node {
	if w.nem.IntN(2) == 0 {
		var leaders []*node
		for _, n := range cands {
			if n.leader {
				leaders = append(leaders, n)
			}
		}
		if len(leaders) > 0 {
			return leaders[w.nem.IntN(len(leaders))]
		}
	}
	return cands[w.nem.IntN(len(cands))]
}

// endFaults stops the fault phase: every fault is undone and the network becomes reliable.
func (w *World) endFaults() {
	if !w.faulting {
		return
	}
	w.faulting = false
	w.faultsEnded = w.now
	w.net.faulty = false
	w.net.heal()
	w.logf(0, "faults stop")
	for _, n := range w.servers(func(n *node) bool { return true }) {
		w.restart(n)
		w.resume(n)
	}
	w.closeWindows()
}

// openWindow starts a fault window under key and returns a token identifying it.
func (w *World) openWindow(key string, kind Fault, detail string) int {
	w.windows = append(w.windows, FaultWindow{Start: time.Duration(w.now), End: -1, Kind: kind, Detail: detail})
	w.open[key] = len(w.windows) - 1
	return len(w.windows) - 1
}

func (w *World) closeWindow(key string) {
	if i, ok := w.open[key]; ok {
		w.windows[i].End = time.Duration(w.now)
		delete(w.open, key)
	}
}

func (w *World) closeWindows() {
	//det:unordered each window gets the same end time whatever the order
	for key := range w.open {
		w.closeWindow(key)
	}
}

func (w *World) instant(kind Fault, detail string) {
	t := time.Duration(w.now)
	w.windows = append(w.windows, FaultWindow{Start: t, End: t, Kind: kind, Detail: detail})
}
