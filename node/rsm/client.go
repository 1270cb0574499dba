package rsm

import (
	"time"

	c "github.com/orrery/orrery/node/component"
)

// Codec translates client operations to requests and results back, for one application.
type Codec interface {
	// Encode turns an operation into a request payload; read says whether it is a query.
	// ok false means the application has no such operation (the client fails it).
	Encode(op c.Op) (payload []byte, read bool, ok bool)
	// Decode turns a result into the operation's completion: its outcome and value.
	Decode(op c.Op, result []byte) (c.Outcome, c.Value)
}

const timerResend = 1

// Client sends one operation at a time to the leader, following redirects and retrying
// elsewhere when a server does not answer. Retries reuse the operation's (client, seq), so
// the servers' session table executes a write at most once: retrying is safe for every
// operation, not only for reads. Build it with NewClient.
type Client struct {
	id      c.NodeID
	servers []c.NodeID
	codec   Codec
	resend  time.Duration
	seq     uint64
	leader  int // index into servers of the server we try next
	cur     *call
}

type call struct {
	op  c.Op
	req Request
}

// NewClient returns a client talking to servers; resend is how long it waits for an answer
// before trying the next server.
func NewClient(id c.NodeID, servers []c.NodeID, codec Codec, resend time.Duration) *Client {
	return &Client{id: id, servers: servers, codec: codec, resend: resend}
}

// Handle implements component.Component.
func (cl *Client) Handle(_ time.Duration, in c.Input) []c.Effect {
	switch in := in.(type) {
	case c.Invoke:
		return cl.invoke(in.Op)
	case c.Cancel:
		if cl.cur != nil && cl.cur.op.ID == in.OpID {
			cl.cur = nil
			return []c.Effect{c.CancelTimer{ID: timerResend}}
		}
	case c.TimerFired:
		if in.ID == timerResend && cl.cur != nil {
			cl.leader = (cl.leader + 1) % len(cl.servers)
			return cl.send()
		}
	case c.Receive:
		return cl.receive(in.Msg)
	}
	return nil
}

func (cl *Client) invoke(op c.Op) []c.Effect {
	payload, read, ok := cl.codec.Encode(op)
	if !ok {
		return []c.Effect{c.Complete{OpID: op.ID, Outcome: c.Fail, Value: op.Value}}
	}
	cl.seq++
	cl.cur = &call{op: op, req: Request{Client: uint64(cl.id), Seq: cl.seq, Read: read, Payload: payload}}
	return cl.send()
}

func (cl *Client) send() []c.Effect {
	return []c.Effect{
		c.Send{To: cl.servers[cl.leader], Msg: cl.cur.req},
		c.SetTimer{ID: timerResend, After: cl.resend},
	}
}

func (cl *Client) receive(msg c.Message) []c.Effect {
	if cl.cur == nil {
		return nil
	}
	switch m := msg.(type) {
	case Reply:
		if m.Seq != cl.cur.req.Seq {
			return nil
		}
		op := cl.cur.op
		cl.cur = nil
		outcome, v := cl.codec.Decode(op, m.Result)
		return []c.Effect{c.CancelTimer{ID: timerResend}, c.Complete{OpID: op.ID, Outcome: outcome, Value: v}}
	case Redirect:
		if m.Seq != cl.cur.req.Seq {
			return nil
		}
		if i := cl.indexOf(c.NodeID(m.Leader)); i >= 0 && m.Leader != 0 {
			cl.leader = i
			return cl.send()
		}
		// No leader known yet: wait a little, then try the next server.
		cl.leader = (cl.leader + 1) % len(cl.servers)
		return []c.Effect{c.SetTimer{ID: timerResend, After: cl.resend / 4}}
	}
	return nil
}

func (cl *Client) indexOf(id c.NodeID) int {
	for i, s := range cl.servers {
		if s == id {
			return i
		}
	}
	return -1
}
