package sim

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Recording a seeded run's script (World.tape) and playing a script back (player).

// reachKey counts how often one node reached one named point (a crash point, a sync) at
// one virtual instant, so a script can say "the second reach at 1.5ms".
type reachKey struct {
	node NodeID
	name string
}

type reachCount struct {
	at    int64
	count int
}

// reached counts a reach of name by node now and returns how many came before it at the
// same instant.
func (w *World) reached(node NodeID, name string) int {
	k := reachKey{node, name}
	r := w.reachAt[k]
	if r.at != w.now {
		r = reachCount{at: w.now}
	}
	nth := r.count
	r.count++
	w.reachAt[k] = r
	return nth
}

// record appends a step that starts now to the tape and returns its index (-1 when the
// run is scripted).
func (w *World) record(s Step) int {
	if w.tape == nil {
		return -1
	}
	s.At = Dur(w.now)
	w.tape.Steps = append(w.tape.Steps, s)
	return len(w.tape.Steps) - 1
}

// endStep marks a recorded step as undone now, unless it already ended.
func (w *World) endStep(i int) {
	if i < 0 || w.tape == nil || w.tape.Steps[i].End != 0 {
		return
	}
	w.tape.Steps[i].End = Dur(w.now)
	if i == w.partStep {
		w.partStep = -1
	}
}

// recordPartition records the cut the network now has; it replaces the partition in force.
func (w *World) recordPartition(shape, note string) int {
	if w.tape == nil {
		return -1
	}
	w.endStep(w.partStep)
	w.partStep = w.record(Step{Kind: StepPartition, Cut: w.net.cutLinks(), Shape: shape, Note: note})
	return w.partStep
}

// recordLink records the link faults of a seeded run: on for the whole fault phase.
func (w *World) recordLink() {
	p := w.prof
	if p.DropRate == 0 && p.DuplicateRate == 0 && p.ReorderRate == 0 && p.DelayRate == 0 {
		return
	}
	w.record(Step{Kind: StepLink, Link: &LinkFaults{
		Drop: p.DropRate, Duplicate: p.DuplicateRate,
		Reorder: p.ReorderRate, ReorderMax: Dur(p.ReorderMax),
		Delay: p.DelayRate, DelayMax: Dur(p.DelayMax),
	}})
}

// finishTape gives clients that never found their operations exhausted a Done just after
// the fault phase ended (or the run did): they did not end it.
func (w *World) finishTape() *Script {
	if w.tape == nil {
		return nil
	}
	end := w.now
	if w.clients.final {
		end = w.faultsEnded
	}
	for i := range w.tape.Clients {
		if c := &w.tape.Clients[i]; c.Done == 0 {
			c.Done = Dur(end + 1)
		}
	}
	return w.tape
}

// rots decides whether a crash also rots the node's synced data.
func (w *World) rots(n *node) bool {
	if w.play != nil {
		r := w.rotNext
		w.rotNext = false
		return r
	}
	return n.id == w.rotNode && chance(w.nem, w.prof.BitrotRate)
}

// syncFails decides, when node n issues a sync, whether it will fail.
func (w *World) syncFails(n *node) bool {
	nth := w.reached(n.id, "sync")
	if w.play != nil {
		_ = w.faulting && chance(n.dsk, w.play.s.SyncFailDraws) // keep the disk stream's draws
		return w.faulting && w.play.match(StepSyncFail, n.id, "", w.now, nth)
	}
	failed := w.faulting && chance(n.dsk, w.prof.SyncFailRate)
	if failed {
		w.record(Step{Kind: StepSyncFail, Node: n.id, Nth: nth})
	}
	return failed
}

// halt crashes a node that asked to stop and restarts it a moment later, as a supervisor
// would.
func (w *World) halt(n *node, e Halt) {
	var delay int64
	if w.play != nil {
		delay = int64(100 * time.Millisecond)
		if h, ok := w.play.halt(n.id, w.now); ok {
			delay, w.rotNext = int64(h.Restart-h.At), h.Rot
		}
		w.crash(n, "halt: "+e.Reason)
	} else {
		w.crash(n, "halt: "+e.Reason)
		delay = between(w.nem, int64(10*time.Millisecond), int64(200*time.Millisecond))
		w.tape.Halts = append(w.tape.Halts, HaltRestart{Node: n.id, At: Dur(w.now), Restart: Dur(w.now + delay), Rot: w.lastRot})
	}
	w.at(delay, n.id, "restart", func() { w.restart(n) })
}

// player follows a script.
type player struct {
	s      *Script
	cursor []int  // next operation per client
	used   []bool // per step: a crash point or sync failure already fired
	halted []bool // per halt record: used
}

func newPlayer(s *Script, clients int) *player {
	if len(s.Clients) != clients {
		panic(fmt.Sprintf("sim: script has %d clients, the system %d", len(s.Clients), clients))
	}
	return &player{s: s, cursor: make([]int, clients), used: make([]bool, len(s.Steps)), halted: make([]bool, len(s.Halts))}
}

// profile says which faults the script uses; rates come from its link steps when they apply.
func (p *player) profile() Profile {
	prof := Profile{On: map[Fault]bool{}}
	for _, s := range p.s.Steps {
		switch s.Kind {
		case StepCrash, StepCrashPoint:
			prof.On[FaultCrash] = true
			if s.Rot {
				prof.On[FaultBitrot] = true
			}
		case StepPause:
			prof.On[FaultPause] = true
		case StepPartition:
			prof.On[FaultPartition] = true
		case StepClockJump, StepClockSkew:
			prof.On[FaultClock] = true
		case StepSyncFail:
			prof.On[FaultSyncFail] = true
		case StepFaultPoint:
			prof.On[FaultPoints] = true
		case StepLink:
			if s.Link == nil {
				continue
			}
			prof.On[FaultDrop] = prof.On[FaultDrop] || s.Link.Drop > 0
			prof.On[FaultDuplicate] = prof.On[FaultDuplicate] || s.Link.Duplicate > 0
			prof.On[FaultReorder] = prof.On[FaultReorder] || s.Link.Reorder > 0
			prof.On[FaultDelay] = prof.On[FaultDelay] || s.Link.Delay > 0
			if s.At == 0 {
				s.Link.apply(&prof)
			}
		}
	}
	return prof
}

func (p *player) clock(id NodeID) clock {
	for _, s := range p.s.Steps {
		if s.Kind == StepClockSkew && s.Node == id {
			return clock{offset: int64(s.Offset), drift: s.Drift}
		}
	}
	return clock{}
}

// nextAt is when client i invokes its next operation (or finds it has none).
func (p *player) nextAt(i int) Dur {
	c := p.s.Clients[i]
	if p.cursor[i] < len(c.Ops) {
		return c.Ops[p.cursor[i]].At
	}
	return c.Done
}

func (p *player) nextOp(i int) (ScriptOp, bool) {
	c := p.s.Clients[i]
	if p.cursor[i] >= len(c.Ops) {
		return ScriptOp{}, false
	}
	p.cursor[i]++
	return c.Ops[p.cursor[i]-1], true
}

func (p *player) exhausted() bool {
	for i, c := range p.s.Clients {
		if p.cursor[i] < len(c.Ops) {
			return false
		}
	}
	return true
}

// match finds an unused step of kind for node (and point) that fires at this reach: the
// reach after Nth others at exactly At, or, when the run no longer reaches the point
// then, the first reach within reachSlack after At. A replayed seed fires each step at
// its exact reach; a shrunk scenario, whose times have shifted a little, still fires it
// at the nearest later reach, and a step whose point is not reached soon after At (the run
// went another way) never fires rather than at an arbitrary later moment.
func (p *player) match(kind string, node NodeID, point string, now int64, nth int) bool {
	return p.matchStep(kind, node, point, now, nth) >= 0
}

// reachSlack is how long after its time a reach-matched step may still fire: one raft tick.
const reachSlack = int64(10 * time.Millisecond)

func (p *player) matchStep(kind string, node NodeID, point string, now int64, nth int) int {
	for i, s := range p.s.Steps {
		if p.used[i] || s.Kind != kind || s.Node != node || s.Point != point {
			continue
		}
		if now == int64(s.At) && nth >= s.Nth || now > int64(s.At) && now < int64(s.At)+max(int64(s.Within), reachSlack) {
			p.used[i] = true
			return i
		}
	}
	return -1
}

// crashPoint crashes n at a scripted crash point.
func (p *player) crashPoint(w *World, n *node, name string, nth int) {
	if !w.faulting {
		return
	}
	i := p.matchStep(StepCrashPoint, n.id, name, w.now, nth)
	if i < 0 {
		return
	}
	s := p.s.Steps[i]
	w.rotNext = s.Rot
	w.fired[name]++
	w.crash(n, "crash point "+name)
	w.playUndoableCrash(n, s, " at "+name)
}

func (w *World) playUndoableCrash(n *node, s Step, detail string) {
	key := fmt.Sprintf("%s-%s", FaultCrash, n.id)
	w.openWindow(key, FaultCrash, n.id.String()+detail)
	if s.End > 0 {
		after := max(int64(s.End)-w.now, 0)
		if s.Within > 0 {
			after = max(after, int64(s.End-s.At))
		}
		w.at(after, n.id, "undo", func() {
			w.restart(n)
			w.closeWindow(key)
		})
	}
}

func (p *player) halt(node NodeID, now int64) (HaltRestart, bool) {
	for i, h := range p.s.Halts {
		if !p.halted[i] && h.Node == node && int64(h.At) == now {
			p.halted[i] = true
			return h, true
		}
	}
	return HaltRestart{}, false
}

// schedule puts the script's timed steps on the agenda, in time order.
func (p *player) schedule(w *World) {
	order := make([]int, len(p.s.Steps))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(p.s.Steps[a].At, p.s.Steps[b].At) })
	for _, i := range order {
		s := p.s.Steps[i]
		if s.Node != 0 && (int(s.Node) < 1 || int(s.Node) > w.sys.Servers) {
			continue
		}
		switch s.Kind {
		case StepCrash, StepPause, StepPartition, StepClockJump:
			w.at(max(int64(s.At)-w.now, 0), s.Node, "nemesis", func() {
				if w.faulting {
					w.playStep(s)
				}
			})
		case StepLink:
			if s.At == 0 { // in force from the start: profile() set the rates
				w.linkOff(s)
				continue
			}
			w.at(int64(s.At), 0, "nemesis", func() {
				if w.faulting {
					w.playLink(s)
				}
			})
		}
	}
}

func (w *World) playStep(s Step) {
	switch s.Kind {
	case StepCrash:
		n := w.nodes[s.Node]
		if !n.up {
			return
		}
		w.rotNext = s.Rot
		w.crash(n, "scenario"+s.Note)
		w.playUndoableCrash(n, s, s.Note)
	case StepPause:
		n := w.nodes[s.Node]
		if !n.up || n.paused {
			return
		}
		w.pause(n)
		key := fmt.Sprintf("%s-%s", FaultPause, n.id)
		w.openWindow(key, FaultPause, n.id.String())
		if s.End > 0 {
			w.at(max(int64(s.End)-w.now, 0), n.id, "undo", func() {
				w.resume(n)
				w.closeWindow(key)
			})
		}
	case StepPartition:
		w.playPartition(s)
	case StepClockJump:
		n := w.nodes[s.Node]
		n.clock.offset += int64(s.Jump)
		w.logf(n.id, "clock jumps +%v", time.Duration(s.Jump))
		w.instant(FaultClock, fmt.Sprintf("%s clock +%v", n.id, time.Duration(s.Jump)))
	}
}

func (w *World) playPartition(s Step) {
	w.net.heal()
	if s.Shape != "" {
		w.net.shapeDraws(s.Shape)
	}
	for _, l := range s.Cut {
		if int(l[0]) <= w.sys.Servers && int(l[1]) <= w.sys.Servers {
			w.net.cutLink(l[0], l[1])
		}
	}
	desc := s.Shape + " " + describeCut(w.net)
	w.logf(0, "partition %s%s", desc, s.Note)
	w.closeWindow("partition")
	key := w.openWindow("partition", FaultPartition, desc+s.Note)
	if s.End > 0 {
		w.at(max(int64(s.End)-w.now, 0), 0, "heal", func() {
			if i, ok := w.open["partition"]; ok && i == key {
				w.net.heal()
				w.logf(0, "heal")
				w.closeWindow("partition")
			}
		})
	}
}

// playLink turns a link step's message faults on, and off again at its End.
func (w *World) playLink(s Step) {
	l := s.Link
	if l == nil {
		return
	}
	l.apply(&w.prof)
	w.logf(0, "link faults drop=%g duplicate=%g reorder=%g delay=%g", l.Drop, l.Duplicate, l.Reorder, l.Delay)
	w.linkOff(s)
}

func (l *LinkFaults) apply(p *Profile) {
	p.DropRate, p.DuplicateRate = l.Drop, l.Duplicate
	p.ReorderRate, p.ReorderMax = l.Reorder, time.Duration(l.ReorderMax)
	p.DelayRate, p.DelayMax = l.Delay, time.Duration(l.DelayMax)
}

// linkOff schedules the end of a link step.
func (w *World) linkOff(s Step) {
	if s.End > 0 {
		w.at(max(int64(s.End)-w.now, 0), 0, "nemesis", func() {
			w.prof.DropRate, w.prof.DuplicateRate, w.prof.ReorderRate, w.prof.DelayRate = 0, 0, 0, 0
			w.logf(0, "link faults off")
		})
	}
}

// cutLinks lists the blocked directed links, in node order.
func (n *network) cutLinks() [][2]NodeID {
	var out [][2]NodeID
	for from := NodeID(1); int(from) <= n.servers; from++ {
		for to := NodeID(1); int(to) <= n.servers; to++ {
			if n.blocked(from, to) {
				out = append(out, [2]NodeID{from, to})
			}
		}
	}
	return out
}

// shapeDraws takes the draws partition(kind, ...) takes from the network's stream, so that
// a scripted partition leaves the stream where the seeded one did.
func (n *network) shapeDraws(kind string) {
	ids := make([]NodeID, n.servers)
	n.r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	if kind == "minority" || kind == "one-way" {
		major := len(ids)/2 + 1
		n.r.IntN(len(ids) - major + 1)
	}
}
