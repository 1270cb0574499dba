package client

import (
	"errors"
	"fmt"
	"slices"
	"time"

	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/kv"
	"github.com/orrery/orrery/node/rsm"
)

// ErrMalformed reports an answer that does not decode; the operation's outcome is unknown.
var ErrMalformed = errors.New("client: malformed answer")

// Config describes a client.
type Config struct {
	ID      c.NodeID
	Servers []c.NodeID
	// Timeout is how long one attempt waits for an answer before the request goes to the
	// next server; 0 means 150ms.
	Timeout time.Duration
	// TimerID is the one component timer the client uses; 0 means 1000.
	TimerID int
}

// Client is the core of a KV client: it finds the leader, follows redirects, retries, and
// keeps alarms for the recipes built on it. It is not a component by itself: a host
// component passes every input to Handle first (which also records the local time),
// makes its calls, and returns Flush's effects with its own.
//
// Writes go one at a time, in the order they were called, each under a fresh (client,
// seq) that its retries keep: the servers' session table applies it at most once, and a
// write is retried until it is answered. Reads (queries) are retried until answered or
// forgotten; retrying them is always safe.
type Client struct {
	cfg    Config
	now    time.Duration
	leader int // index into Servers of the server requests go to
	seq    uint64
	out    []c.Effect
	writes []*call // FIFO; writes[0] is in flight
	reads  []*call // in flight, in issue order
	alarms []alarm // sorted by (at, id)
	nextID uint64
	armed  time.Duration // when the component timer fires; -1: not armed
	watch  func(kv.WatchResponse)
}

type call struct {
	req   rsm.Request
	first time.Duration // when the first attempt was sent; -1 before
	alarm uint64        // the attempt's timeout
	done  func(result []byte, sent time.Duration)
}

type alarm struct {
	at time.Duration
	id uint64
	fn func()
}

// New returns a client; it sends nothing until called.
func New(cfg Config) *Client {
	if cfg.Timeout == 0 {
		cfg.Timeout = 150 * time.Millisecond
	}
	if cfg.TimerID == 0 {
		cfg.TimerID = 1000
	}
	return &Client{cfg: cfg, armed: -1}
}

// Now returns the local time of the input being handled.
func (cl *Client) Now() time.Duration { return cl.now }

// Handle takes an input of the host component and reports whether it was the client's
// (an answer, a push or its timer). Every input must pass through it first.
func (cl *Client) Handle(now time.Duration, in c.Input) bool {
	cl.now = now
	switch in := in.(type) {
	case c.TimerFired:
		if in.ID != cl.cfg.TimerID {
			return false
		}
		cl.armed = -1
		cl.fire()
		return true
	case c.Receive:
		switch m := in.Msg.(type) {
		case rsm.Reply:
			cl.reply(m)
			return true
		case rsm.Redirect:
			cl.redirect(m)
			return true
		case rsm.Pushed:
			cl.pushed(m)
			return true
		}
	}
	return false
}

// Flush returns the effects of everything done since the last Flush and arms the timer
// for the next alarm.
func (cl *Client) Flush() []c.Effect {
	cl.rearm()
	out := cl.out
	cl.out = nil
	return out
}

// After runs fn once the local clock reaches now+d; the returned ID cancels it.
func (cl *Client) After(d time.Duration, fn func()) uint64 {
	cl.nextID++
	a := alarm{at: cl.now + d, id: cl.nextID, fn: fn}
	i, _ := slices.BinarySearchFunc(cl.alarms, a, func(x, y alarm) int {
		if x.at != y.at {
			return int(x.at - y.at)
		}
		return int(x.id) - int(y.id)
	})
	cl.alarms = slices.Insert(cl.alarms, i, a)
	return a.id
}

// CancelAlarm drops an alarm set with After; an alarm already run or cancelled is ignored.
func (cl *Client) CancelAlarm(id uint64) {
	cl.alarms = slices.DeleteFunc(cl.alarms, func(a alarm) bool { return a.id == id })
}

func (cl *Client) fire() {
	for len(cl.alarms) > 0 && cl.alarms[0].at <= cl.now {
		a := cl.alarms[0]
		cl.alarms = cl.alarms[1:]
		a.fn()
	}
}

func (cl *Client) rearm() {
	switch {
	case len(cl.alarms) == 0 && cl.armed >= 0:
		cl.armed = -1
		cl.out = append(cl.out, c.CancelTimer{ID: cl.cfg.TimerID})
	case len(cl.alarms) > 0 && cl.alarms[0].at != cl.armed:
		cl.armed = cl.alarms[0].at
		cl.out = append(cl.out, c.SetTimer{ID: cl.cfg.TimerID, After: max(0, cl.armed-cl.now)})
	}
}

// write queues a command; done gets the raw result.
func (cl *Client) write(payload []byte, done func([]byte, time.Duration)) {
	cl.writes = append(cl.writes, &call{req: rsm.Request{Client: uint64(cl.cfg.ID), Payload: payload}, first: -1, done: done})
	if len(cl.writes) == 1 {
		cl.startWrite()
	}
}

func (cl *Client) startWrite() {
	w := cl.writes[0]
	cl.seq++
	w.req.Seq, w.req.Ack = cl.seq, cl.seq-1 // one write at a time: every earlier one is answered
	cl.send(w)
}

// query sends a read (linearizable, or served by any member when local) and returns
// its ID for Forget.
func (cl *Client) query(payload []byte, local bool, done func([]byte, time.Duration)) uint64 {
	cl.seq++
	r := &call{req: rsm.Request{Client: uint64(cl.cfg.ID), Seq: cl.seq, Read: !local, Local: local, Payload: payload}, first: -1, done: done}
	cl.reads = append(cl.reads, r)
	cl.send(r)
	return r.req.Seq
}

// Forget stops retrying the read with this ID; a late answer is ignored.
func (cl *Client) Forget(id uint64) {
	cl.reads = slices.DeleteFunc(cl.reads, func(r *call) bool {
		if r.req.Seq == id {
			cl.CancelAlarm(r.alarm)
			return true
		}
		return false
	})
}

// Pending reports how many writes and reads are waiting for an answer.
func (cl *Client) Pending() (writes, reads int) { return len(cl.writes), len(cl.reads) }

func (cl *Client) send(k *call) {
	if k.first < 0 {
		k.first = cl.now
	}
	cl.out = append(cl.out, c.Send{To: cl.cfg.Servers[cl.leader], Msg: k.req})
	cl.CancelAlarm(k.alarm)
	k.alarm = cl.After(cl.cfg.Timeout, func() {
		cl.next()
		cl.send(k)
	})
}

func (cl *Client) next() { cl.leader = (cl.leader + 1) % len(cl.cfg.Servers) }

// find returns the call waiting for seq: the write in flight or a read.
func (cl *Client) find(seq uint64) (*call, bool) {
	if len(cl.writes) > 0 && cl.writes[0].req.Seq == seq {
		return cl.writes[0], true
	}
	for _, r := range cl.reads {
		if r.req.Seq == seq {
			return r, false
		}
	}
	return nil, false
}

func (cl *Client) reply(m rsm.Reply) {
	k, isWrite := cl.find(m.Seq)
	if k == nil {
		return // a stream's acknowledgement, or a late duplicate
	}
	cl.CancelAlarm(k.alarm)
	if isWrite {
		cl.writes = cl.writes[1:]
		if len(cl.writes) > 0 {
			cl.startWrite()
		}
	} else {
		cl.reads = slices.DeleteFunc(cl.reads, func(r *call) bool { return r == k })
	}
	k.done(m.Result, k.first)
}

// redirect follows a leader hint at once, or, with none, tries the next server a little
// later.
func (cl *Client) redirect(m rsm.Redirect) {
	k, _ := cl.find(m.Seq)
	if k == nil {
		return
	}
	if i := slices.Index(cl.cfg.Servers, c.NodeID(m.Leader)); m.Leader != 0 && i >= 0 {
		cl.leader = i
		cl.send(k)
		return
	}
	cl.next()
	cl.CancelAlarm(k.alarm)
	k.alarm = cl.After(cl.cfg.Timeout/4, func() { cl.send(k) })
}

// Watch opens a watch on the member requests currently go to; on receives every push of
// the client's watches until StopWatch. Streams die with their member, and the network
// may drop pushes: treat events as hints and confirm with a read, or reopen the watch.
func (cl *Client) Watch(req kv.WatchRequest, on func(kv.WatchResponse)) {
	cl.watch = on
	cl.seq++
	r := rsm.Request{Client: uint64(cl.cfg.ID), Seq: cl.seq, Stream: true, Payload: kv.EncodeWatchRequest(req)}
	cl.out = append(cl.out, c.Send{To: cl.cfg.Servers[cl.leader], Msg: r})
}

// StopWatch ignores pushes from now on (the member's stream ends when it is replaced).
func (cl *Client) StopWatch() { cl.watch = nil }

func (cl *Client) pushed(p rsm.Pushed) {
	if cl.watch == nil {
		return
	}
	resp, err := kv.DecodeWatchResponse(p.Data)
	if err != nil {
		return
	}
	cl.watch(resp)
}

func decodeReply(b []byte) (kv.Reply, error) {
	r, err := kv.DecodeReply(b)
	if err != nil {
		return kv.Reply{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return r, r.Err
}

func decodeAnswer(b []byte) (kv.Answer, error) {
	a, err := kv.DecodeAnswer(b)
	if err != nil {
		return kv.Answer{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return a, a.Err
}
