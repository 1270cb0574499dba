package register

import (
	"time"

	"github.com/orrery/orrery/node/bugs"
	c "github.com/orrery/orrery/node/component"
)

// SkipWriteback is the planted bug that drops the read's write-back phase.
const SkipWriteback = "register.skip-writeback"

// Bugs lists the planted bugs of this package.
var Bugs = bugs.Catalog{{
	Name: SkipWriteback,
	Description: "get returns the largest value of its query majority without writing it back " +
		"to a majority, so a later get can see an older value (new-old inversion): not linearizable",
}}

const timerResend = 2

// Phases of an operation.
const (
	phaseQuery uint8 = 1
	phaseStore uint8 = 2
)

// Client coordinates one operation at a time against the replicas. Build it with NewClient.
type Client struct {
	id       c.NodeID
	replicas []c.NodeID
	bugs     bugs.Set
	op       *operation
}

type operation struct {
	op      c.Op
	phase   uint8
	answers map[c.NodeID]bool
	best    Cell // largest cell seen in the query phase
	store   Cell // what the store phase writes
}

// NewClient returns a client node id talking to replicas.
func NewClient(id c.NodeID, replicas []c.NodeID, b bugs.Set) *Client {
	return &Client{id: id, replicas: replicas, bugs: b}
}

// Handle implements component.Component.
func (cl *Client) Handle(_ time.Duration, in c.Input) []c.Effect {
	switch in := in.(type) {
	case c.Invoke:
		return cl.invoke(in.Op)
	case c.Cancel:
		if cl.op != nil && cl.op.op.ID == in.OpID {
			cl.op = nil
			return []c.Effect{c.CancelTimer{ID: timerResend}}
		}
	case c.Receive:
		return cl.receive(in.From, in.Msg)
	case c.TimerFired:
		if in.ID == timerResend && cl.op != nil {
			return cl.broadcast()
		}
	}
	return nil
}

func (cl *Client) invoke(op c.Op) []c.Effect {
	if op.F != "get" && op.F != "put" {
		return []c.Effect{c.Complete{OpID: op.ID, Outcome: c.Fail, Value: op.Value}}
	}
	cl.op = &operation{op: op, phase: phaseQuery, answers: map[c.NodeID]bool{}}
	cl.op.best.Key = op.Key
	return cl.broadcast()
}

// broadcast sends the current phase's request to every replica that has not answered it.
func (cl *Client) broadcast() []c.Effect {
	o := cl.op
	req := ReqID{Op: o.op.ID, Phase: o.phase}
	var effs []c.Effect
	for _, r := range cl.replicas {
		if o.answers[r] {
			continue
		}
		var m c.Message = Query{Req: req, Key: o.op.Key}
		if o.phase == phaseStore {
			m = Store{Req: req, Cell: o.store}
		}
		effs = append(effs, c.Send{To: r, Msg: m})
	}
	return append(effs, c.SetTimer{ID: timerResend, After: retryEvery})
}

func (cl *Client) receive(from c.NodeID, msg c.Message) []c.Effect {
	o := cl.op
	if o == nil {
		return nil
	}
	switch m := msg.(type) {
	case QueryReply:
		if m.Req != (ReqID{Op: o.op.ID, Phase: phaseQuery}) || o.phase != phaseQuery || o.answers[from] {
			return nil
		}
		o.answers[from] = true
		if o.best.TS.Less(m.Cell.TS) {
			o.best = m.Cell
		}
		if cl.quorum() {
			return cl.queried()
		}
	case StoreAck:
		if m.Req != (ReqID{Op: o.op.ID, Phase: phaseStore}) || o.answers[from] {
			return nil
		}
		o.answers[from] = true
		if cl.quorum() {
			return cl.finish()
		}
	}
	return nil
}

func (cl *Client) quorum() bool { return len(cl.op.answers) >= len(cl.replicas)/2+1 }

// queried moves from the query phase to the store phase: a put stores its value under a
// timestamp above every one seen, a get writes back the largest cell it saw.
func (cl *Client) queried() []c.Effect {
	o := cl.op
	if o.op.F == "put" {
		s, _ := o.op.Value.Str()
		o.store = Cell{Key: o.op.Key, TS: TS{Counter: o.best.TS.Counter + 1, Writer: cl.id}, Val: Value{S: s, Set: true}}
	} else {
		if cl.bugs.On(SkipWriteback) {
			return cl.finish()
		}
		o.store = o.best
	}
	o.phase, o.answers = phaseStore, map[c.NodeID]bool{}
	return cl.broadcast()
}

func (cl *Client) finish() []c.Effect {
	o := cl.op
	cl.op = nil
	v := o.op.Value
	if o.op.F == "get" {
		v = c.Null()
		if o.best.Val.Set {
			v = c.Str(o.best.Val.S)
		}
	}
	return []c.Effect{c.CancelTimer{ID: timerResend}, c.Complete{OpID: o.op.ID, Outcome: c.OK, Value: v}}
}
