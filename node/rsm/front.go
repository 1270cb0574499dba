package rsm

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	c "github.com/orrery/orrery/node/component"
)

// The front: requests of the callers attached to this server (a real member's gRPC
// clients; in the simulator, client nodes connected to one server) run under the
// server's own session. The server numbers them, sends writes and leader-only queries
// to the leader (or serves them as leader), holds them while no leader is known, resends
// them after an election timeout without an answer, and answers the caller once. A resend
// keeps its (session, seq), so the session table applies a write at most once however
// many copies the network or the resends make: a forwarded write is never applied twice.

// Call asks the server to run Req for the caller that sent it. A caller numbers its
// calls in the order it sends them (IDs increase); a call whose ID is not above the
// caller's last is taken for a copy and ignored, so a duplicated call runs once. Req's Client, Seq and Ack
// are the server's to fill in. The server answers with exactly one Answer of the same ID
// (sent to the caller), and for a stream (Req.Stream) with Pushed messages naming the ID
// until the caller abandons it. A stream request with Of set concerns the open stream
// Of (a progress request) instead of opening one.
//
// Session names the incarnation of the front the caller talks to, as a connection does:
// a call for another session (one sent to this server's previous incarnation, arriving
// after a restart) is not run but answered with ErrWrongSession and this front's
// session, and the caller may send it again. Session 0 is accepted by any front (for a
// caller on the same host, which cannot outlive the server's process).
type Call struct {
	ID      uint64
	Of      uint64
	Session uint64
	Req     Request
}

// Answer is the outcome of a Call: the application's result, or Err. ErrNoLeader is
// definite (the request was never sent anywhere); ErrGaveUp is not (it may still apply).
type Answer struct {
	ID      uint64
	Session uint64
	Result  []byte
	Err     error
}

// Abandon tells the server the caller gave up on call ID (its deadline passed, its
// stream closed). The server answers a pending call with ErrNoLeader or ErrGaveUp, closes a
// stream, and never sends the call again; its session floor moves past it, so a copy of
// it still on the way cannot apply later.
type Abandon struct {
	ID uint64
}

// Front errors, carried by Answer.
var (
	ErrNoLeader = errors.New("rsm: no leader")
	ErrGaveUp   = errors.New("rsm: gave up waiting; the outcome is unknown")
	// ErrWrongSession is definite: the call was addressed to another incarnation of the
	// front and was not run.
	ErrWrongSession = errors.New("rsm: call for another session; not run")
)

func (m Call) String() string {
	return fmt.Sprintf("call %d of=%d session=%d %s", m.ID, m.Of, m.Session, m.Req)
}
func (m Answer) String() string {
	if m.Err != nil {
		return fmt.Sprintf("answer %d session=%d err=%v", m.ID, m.Session, m.Err)
	}
	return fmt.Sprintf("answer %d %q", m.ID, m.Result)
}
func (m Abandon) String() string { return fmt.Sprintf("abandon %d", m.ID) }

// Pushes of a stream opened by a Call carry the call's ID in Pushed.Stream.

type frontCall struct {
	caller c.NodeID
	id     uint64
	req    Request
	sent   bool // sent to a leader (or proposed here) at least once: it may apply
	held   bool // waiting for a leader to be known
	at     int  // the tick of the last send
}

type frontStream struct {
	caller c.NodeID
	id     uint64
}

type front struct {
	session uint64                // drawn on the first call: runs without calls keep their draws
	seq     uint64                // last seq handed out
	calls   map[uint64]*frontCall // pending, by seq
	byID    map[[2]uint64]uint64  // (caller, call ID) -> seq
	keys    uint64                // stream keys handed out
	streams map[uint64]frontStream
	byKey   map[[2]uint64]uint64 // (caller, call ID) -> stream key
	last    map[c.NodeID]uint64  // each caller's highest call ID: its calls come numbered in order
}

// streamKeyBase puts front streams' keys far above client node IDs, which share the
// application's stream key space.
const streamKeyBase = 1 << 62

func (s *Server) call(from c.NodeID, m Call) []c.Effect {
	f := &s.front
	if f.session == 0 {
		f.session = s.r.Uint64() | 1<<63
		f.calls, f.byID = map[uint64]*frontCall{}, map[[2]uint64]uint64{}
		f.streams, f.byKey = map[uint64]frontStream{}, map[[2]uint64]uint64{}
		f.last = map[c.NodeID]uint64{}
	}
	if m.Session != 0 && m.Session != f.session {
		return []c.Effect{c.Send{To: from, Msg: Answer{ID: m.ID, Session: f.session, Err: ErrWrongSession}}}
	}
	if m.ID <= f.last[from] {
		return nil // a copy (the network duplicated it), or overtaken by a later call
	}
	f.last[from] = m.ID
	if m.Req.Stream {
		return s.callStream(from, m)
	}
	if m.Req.Local {
		l, ok := s.app.(Local)
		if !ok {
			return nil
		}
		return []c.Effect{c.Send{To: from, Msg: Answer{ID: m.ID, Result: l.Local(m.Req.Payload, s.lead == uint64(s.cfg.ID))}}}
	}
	f.seq++
	fc := &frontCall{caller: from, id: m.ID, req: m.Req}
	fc.req.Client, fc.req.Seq = f.session, f.seq
	f.calls[f.seq] = fc
	f.byID[[2]uint64{uint64(from), m.ID}] = f.seq
	return s.route(fc)
}

func (s *Server) callStream(from c.NodeID, m Call) []c.Effect {
	f := &s.front
	st, ok := s.app.(Streamer)
	if !ok {
		return nil
	}
	key := f.byKey[[2]uint64{uint64(from), m.Of}]
	if m.Of == 0 {
		f.keys++
		key = streamKeyBase + f.keys
		f.streams[key] = frontStream{caller: from, id: m.ID}
		f.byKey[[2]uint64{uint64(from), m.ID}] = key
	}
	var result []byte
	if key != 0 {
		result = st.Subscribe(key, m.Req.Payload)
	} else {
		result = st.Subscribe(0, m.Req.Payload) // a progress request for no stream: its error
	}
	return append([]c.Effect{c.Send{To: from, Msg: Answer{ID: m.ID, Result: result}}}, s.pushes()...)
}

// floor is the session's ack: every seq below the lowest pending one is finished.
func (f *front) floor() uint64 {
	low := f.seq + 1
	//det:unordered a minimum
	for seq := range f.calls {
		low = min(low, seq)
	}
	return low - 1
}

// route sends a call where it can be served: here (as leader, or as a follower serving a
// read through a read index), or to the leader; with no leader known it is held until
// one is.
func (s *Server) route(fc *frontCall) []c.Effect {
	fc.req.Ack = s.front.floor()
	fc.at, fc.held = s.ticks, false
	self := uint64(s.cfg.ID)
	req := fc.req
	followerRead := req.Read && s.cfg.FollowerReads && s.lead != 0 && !s.leaderOnly(req.Payload)
	switch {
	case s.lead == self || followerRead:
		fc.sent = fc.sent || !req.Read
		return s.request(s.cfg.ID, req)
	case s.lead == 0:
		fc.held = true
		return nil
	}
	fc.sent = fc.sent || !req.Read
	return []c.Effect{c.Send{To: c.NodeID(s.lead), Msg: req}}
}

// frontReply takes the answer to a call's request: from the leader over the network, or
// from this server itself (looped back).
func (s *Server) frontReply(msg c.Message) []c.Effect {
	f := &s.front
	switch m := msg.(type) {
	case Reply:
		fc := f.calls[m.Seq]
		if m.Client != f.session || fc == nil {
			return nil // a duplicate, or for a call answered or abandoned already
		}
		s.forget(m.Seq)
		return []c.Effect{c.Send{To: fc.caller, Msg: Answer{ID: fc.id, Result: m.Result}}}
	case Redirect:
		fc := f.calls[m.Seq]
		if m.Client != f.session || fc == nil {
			return nil
		}
		if m.Leader != 0 && m.Leader != uint64(s.cfg.ID) {
			fc.req.Ack = f.floor()
			fc.at = s.ticks
			return []c.Effect{c.Send{To: c.NodeID(m.Leader), Msg: fc.req}}
		}
		fc.held = true // no leader to try now: the next tick routes it again
	}
	return nil
}

func (s *Server) forget(seq uint64) {
	fc := s.front.calls[seq]
	delete(s.front.calls, seq)
	delete(s.front.byID, [2]uint64{uint64(fc.caller), fc.id})
}

// abandon drops a call or closes a stream its caller gave up on.
func (s *Server) abandon(from c.NodeID, m Abandon) []c.Effect {
	f := &s.front
	k := [2]uint64{uint64(from), m.ID}
	if key, ok := f.byKey[k]; ok {
		delete(f.byKey, k)
		delete(f.streams, key)
		if st, ok := s.app.(Streamer); ok {
			st.Subscribe(key, nil) // an empty request cancels the stream
		}
		return nil
	}
	seq, ok := f.byID[k]
	if !ok {
		return nil
	}
	fc := f.calls[seq]
	s.forget(seq)
	err := ErrGaveUp
	if !fc.sent {
		err = ErrNoLeader
	}
	return []c.Effect{c.Send{To: from, Msg: Answer{ID: m.ID, Err: err}}}
}

// resend routes, at a tick, the calls held for want of a leader and those sent an
// election timeout ago without an answer (the leader may have lost them, or died).
func (s *Server) resend() []c.Effect {
	var effs []c.Effect
	for _, seq := range slices.Sorted(maps.Keys(s.front.calls)) {
		fc := s.front.calls[seq]
		switch {
		case fc.held && s.lead != 0:
		case !fc.held && s.ticks-fc.at >= s.cfg.ElectionTick:
			if s.cfg.Bugs.On(BugForwardTwice) && !fc.req.Read {
				fc = s.renumberBug(seq)
			}
		default:
			continue
		}
		effs = append(effs, s.route(fc)...)
	}
	return effs
}

// renumberBug is the planted bug's resend: the call gets a new seq, so the session table
// takes the resend for a new command and applies it even if the first copy applied too.
func (s *Server) renumberBug(seq uint64) *frontCall {
	f := &s.front
	fc := f.calls[seq]
	delete(f.calls, seq)
	f.seq++
	fc.req.Seq = f.seq
	f.calls[f.seq] = fc
	f.byID[[2]uint64{uint64(fc.caller), fc.id}] = f.seq
	return fc
}

// loopback hands this server's replies to its own front (a call served here as leader, or
// read here) instead of sending them over the network to itself.
func (s *Server) loopback(effs []c.Effect) []c.Effect {
	for i := 0; i < len(effs); i++ {
		snd, ok := effs[i].(c.Send)
		if !ok || snd.To != s.cfg.ID {
			continue
		}
		switch snd.Msg.(type) {
		case Reply, Redirect:
			more := s.frontReply(snd.Msg)
			effs = slices.Delete(effs, i, i+1)
			effs = slices.Insert(effs, i, more...)
			i--
		}
	}
	return effs
}

// frontPush addresses a push to a front stream's caller; ok is false for other streams.
func (s *Server) frontPush(p Push) (c.Effect, bool) {
	fs, ok := s.front.streams[p.Client]
	if !ok {
		return nil, false
	}
	return c.Send{To: fs.caller, Msg: Pushed{Stream: fs.id, Data: p.Data}}, true
}
