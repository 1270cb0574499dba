package sim

import (
	"fmt"
	"time"

	"github.com/orrery/orrery/checker/history"
)

// clients drives the workload: each client node performs one operation at a time, records
// it in the history, and times it out as indefinite when no answer comes. After an
// indefinite outcome the client continues under a new process id, as in Jepsen.
type clients struct {
	w       *World
	process []int     // current history process per client
	pending []*openOp // the client's open operation, nil when idle
	issued  int       // operations issued in the fault phase
	final   bool      // the liveness phase has begun
	left    int       // final operations not yet completed
	nextID  uint64
	gen     Generator
}

type openOp struct {
	op    Op
	final bool
}

func newClients(w *World) *clients {
	c := &clients{w: w, gen: w.sys.Workload(), process: make([]int, w.sys.Clients), pending: make([]*openOp, w.sys.Clients)}
	for i := range c.process {
		c.process[i] = i
	}
	return c
}

func (c *clients) node(i int) *node { return c.w.nodes[c.w.sys.Servers+1+i] }

func (c *clients) index(id NodeID) int { return int(id) - c.w.sys.Servers - 1 }

func (c *clients) begin() {
	for i := range c.process {
		c.think(i)
	}
}

// think schedules client i's next operation after a short random pause.
func (c *clients) think(i int) {
	if p := c.w.play; p != nil {
		c.w.at(max(int64(p.nextAt(i))-c.w.now, 0), c.node(i).id, "client", func() { c.next(i) })
		return
	}
	delay := int64(c.w.wl.ExpFloat64() * float64(2*time.Millisecond))
	c.w.at(delay, c.node(i).id, "client", func() { c.next(i) })
}

func (c *clients) next(i int) {
	if p := c.w.play; p != nil {
		c.nextScripted(i, p)
		return
	}
	if c.final || c.issued >= c.w.opts.Ops {
		if !c.final {
			c.w.tape.Clients[i].Done = Dur(c.w.now)
		}
		c.maybeEndFaults()
		return
	}
	c.issued++
	c.invoke(i, c.gen.Next(c.w.wl, i), false, c.w.opts.OpTimeout)
}

// nextScripted invokes client i's next scripted operation; once the script is out of
// operations everywhere and none is open, the fault phase ends.
func (c *clients) nextScripted(i int, p *player) {
	op, ok := p.nextOp(i)
	if c.final || !ok {
		if !c.final && p.exhausted() {
			c.maybeEndFaults()
		}
		return
	}
	c.issued++
	c.invoke(i, Op{F: op.F, Key: op.Key, Value: OpValue(op.Value)}, false, c.w.opts.OpTimeout)
}

func (c *clients) invoke(i int, op Op, final bool, timeout time.Duration) {
	c.nextID++
	op.ID = c.nextID
	if t := c.w.tape; t != nil {
		so := ScriptOp{At: Dur(c.w.now), F: op.F, Key: op.Key, Value: HistoryValue(op.Value)}
		if final {
			t.Clients[i].Final = &so
		} else {
			t.Clients[i].Ops = append(t.Clients[i].Ops, so)
		}
	}
	c.pending[i] = &openOp{op: op, final: final}
	c.w.rec.Invoke(c.process[i], op.F, op.Key, HistoryValue(op.Value), c.w.now)
	n := c.node(i)
	c.w.deliver(n, Invoke{Op: op})
	id := op.ID
	c.w.at(int64(timeout), n.id, "timeout", func() { c.timeout(i, id) })
}

func (c *clients) timeout(i int, id uint64) {
	p := c.pending[i]
	if p == nil || p.op.ID != id {
		return
	}
	c.w.logf(c.node(i).id, "op %d timed out: indefinite", id)
	c.w.rec.Complete(c.process[i], history.Info, HistoryValue(p.op.Value), c.w.now)
	c.pending[i] = nil
	c.process[i] += len(c.process)
	c.w.deliver(c.node(i), Cancel{OpID: id})
	if p.final {
		c.w.fail("final operation %s of client %s did not complete within %v after the faults stopped", p.op, c.node(i).id, c.w.opts.Liveness)
		return
	}
	c.think(i)
}

// complete records a client's answer. Answers to operations already timed out are ignored:
// the history says "unknown" for them and must not change its mind.
func (c *clients) complete(from NodeID, e Complete) {
	i := c.index(from)
	if i < 0 || i >= len(c.pending) {
		panic(fmt.Sprintf("sim: server %s completed a client operation", from))
	}
	p := c.pending[i]
	if p == nil || p.op.ID != e.OpID {
		return
	}
	typ, err := HistoryType(e.Outcome)
	if err != nil {
		panic(fmt.Sprintf("sim: client %s completed op %d: %v", from, e.OpID, err))
	}
	c.w.rec.Complete(c.process[i], typ, HistoryValue(e.Value), c.w.now)
	c.pending[i] = nil
	if typ == history.Info {
		// As after a timeout: the process that may still act is retired.
		c.process[i] += len(c.process)
		if p.final {
			c.w.fail("final operation %s of client %s ended indefinite", p.op, c.node(i).id)
			return
		}
	}
	if p.final {
		c.left--
		if c.left == 0 {
			c.w.logf(0, "all final operations completed")
			c.w.done = true
		}
		return
	}
	c.think(i)
}

func (c *clients) openOps() int {
	n := 0
	for _, p := range c.pending {
		if p != nil {
			n++
		}
	}
	return n
}

// maybeEndFaults starts the liveness phase once every fault-phase operation has finished.
func (c *clients) maybeEndFaults() {
	if c.final || c.openOps() > 0 {
		return
	}
	c.final = true
	c.w.endFaults()
	if p := c.w.play; p != nil {
		c.finalScripted(p)
		return
	}
	c.left = len(c.pending)
	for i := range c.pending {
		c.invoke(i, c.gen.Final(c.w.wl, i), true, c.w.opts.Liveness)
	}
}

// finalScripted invokes the scripted final operations; a script without any ends the run.
func (c *clients) finalScripted(p *player) {
	for i := range c.pending {
		if p.s.Clients[i].Final != nil {
			c.left++
		}
	}
	if c.left == 0 {
		c.w.logf(0, "no final operations")
		c.w.done = true
		return
	}
	for i := range c.pending {
		if f := p.s.Clients[i].Final; f != nil {
			c.invoke(i, Op{F: f.F, Key: f.Key, Value: OpValue(f.Value)}, true, c.w.opts.Liveness)
		}
	}
}
