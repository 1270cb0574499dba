package rsm

import (
	"errors"
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
	front   bool   // talk to one server's front (Call/Answer) instead of to the leader
	session uint64 // the session of the front talked to (1: none known, so none matches)
	id      c.NodeID
	servers []c.NodeID
	codec   Codec
	resend  time.Duration
	seq     uint64
	leader  int // index into servers of the server we try next
	// probe walks the servers in turn on every unanswered send, apart from the
	// redirects' hints: a hint to a silent server (a stale leader, named by a member
	// that was removed and does not know it) must not send the walk back to where it
	// was, or two servers can keep the client away from the live ones for good.
	probe int
	cur   *call
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

// Front makes the client talk to one server at a time through its front, as a real
// member's gRPC client does: each operation is a Call the server runs under its own
// session, forwarding it to the leader and resending it as needed. A write is never
// sent to a second server (a new session there could apply it twice): when its answer
// does not come, the client abandons it at the server and leaves its outcome unknown. A
// read that gets no answer is abandoned and asked of the next server.
func (cl *Client) Front() *Client {
	cl.front, cl.session = true, 1
	return cl
}

// Fronted reports whether the client talks to servers' fronts (see Front).
func (cl *Client) Fronted() bool { return cl.front }

// StreamCall numbers a Call that opens a stream on a front with payload, in the same
// order as the client's other calls (a front drops a call numbered below the caller's
// last). Streams are not deduplicated, so the call carries no session: any incarnation of
// the server may open it.
func (cl *Client) StreamCall(payload []byte) Call {
	cl.seq++
	return Call{ID: cl.seq, Req: Request{Stream: true, Payload: payload}}
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
		if in.ID == timerResend && cl.cur != nil && cl.front {
			return cl.frontTimeout()
		}
		if in.ID == timerResend && cl.cur != nil {
			cl.probe = (cl.probe + 1) % len(cl.servers)
			cl.leader = cl.probe
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
	cl.cur = &call{op: op, req: Request{Client: uint64(cl.id), Seq: cl.seq, Ack: cl.seq - 1, Read: read, Payload: payload}}
	return cl.send()
}

func (cl *Client) send() []c.Effect {
	if cl.front {
		return []c.Effect{
			c.Send{To: cl.servers[cl.leader], Msg: Call{ID: cl.cur.req.Seq, Session: cl.session, Req: cl.cur.req}},
			c.SetTimer{ID: timerResend, After: cl.frontWait()},
		}
	}
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
	case Answer:
		return cl.answer(m)
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
		// No leader known yet: wait a little, then try the next server (the resend
		// timer moves the probe on; moving it here too would skip every other server).
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

// frontWait is how long the client waits for a front's answer: a write long enough for
// the server's own resends after an election; a read as long as a direct request.
func (cl *Client) frontWait() time.Duration {
	if cl.cur.req.Read {
		return cl.resend
	}
	return 5 * cl.resend
}

// frontTimeout abandons the call at its server; a read moves on to the next server under
// a new number, a write waits for the world to give up on it.
func (cl *Client) frontTimeout() []c.Effect {
	effs := []c.Effect{c.Send{To: cl.servers[cl.leader], Msg: Abandon{ID: cl.cur.req.Seq}}}
	cl.leader, cl.session = (cl.leader+1)%len(cl.servers), 1
	if !cl.cur.req.Read {
		return effs
	}
	cl.seq++
	cl.cur.req.Seq, cl.cur.req.Ack = cl.seq, cl.seq-1
	return append(effs, cl.send()...)
}

// answer completes the operation with a front's answer. ErrNoLeader is definite (the
// server never sent it on); ErrWrongSession is too (the call reached another incarnation
// than the one it was for, or the client knew none: a new connection); other errors
// answer an abandoned call: the client has moved on.
func (cl *Client) answer(m Answer) []c.Effect {
	if m.ID != cl.cur.req.Seq {
		return nil
	}
	op := cl.cur.op
	switch {
	case errors.Is(m.Err, ErrWrongSession):
		// Not run: connect to this incarnation and send it again, as a new call.
		cl.session = m.Session
		cl.seq++
		cl.cur.req.Seq, cl.cur.req.Ack = cl.seq, cl.seq-1
		return cl.send()
	case errors.Is(m.Err, ErrNoLeader):
		cl.cur = nil
		return []c.Effect{c.CancelTimer{ID: timerResend}, c.Complete{OpID: op.ID, Outcome: c.Fail, Value: op.Value}}
	case m.Err != nil:
		return nil
	}
	cl.cur = nil
	typ, v := cl.codec.Decode(op, m.Result)
	return []c.Effect{c.CancelTimer{ID: timerResend}, c.Complete{OpID: op.ID, Outcome: typ, Value: v}}
}
