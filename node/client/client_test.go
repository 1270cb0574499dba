package client

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/kv"
	"github.com/orrery/orrery/node/rsm"
)

// step is one thing that happens to the client at a local time: an input, or a call made
// by the host (do). want lists the effects that follow, summarised by summary.
type step struct {
	at   time.Duration
	in   c.Input
	do   func(*Client)
	want []string
}

// summary renders an effect without its binary payload.
func summary(e c.Effect) string {
	switch e := e.(type) {
	case c.Send:
		switch m := e.Msg.(type) {
		case rsm.Request:
			kind := "write"
			switch {
			case m.Stream:
				kind = "watch"
			case m.Read:
				kind = "read"
			case m.Local:
				kind = "local"
			}
			return fmt.Sprintf("send %s %s s=%d", e.To, kind, m.Seq)
		}
	case c.SetTimer:
		return fmt.Sprintf("timer %v", e.After)
	case c.CancelTimer:
		return "cancel-timer"
	}
	return e.String()
}

func run(t *testing.T, cl *Client, steps []step) {
	t.Helper()
	for i, s := range steps {
		if s.in != nil {
			cl.Handle(s.at, s.in)
		} else {
			cl.Handle(s.at, c.Invoke{}) // the host's own input: sets the time
			s.do(cl)
		}
		var got []string
		for _, e := range cl.Flush() {
			got = append(got, summary(e))
		}
		assert.Equal(t, s.want, got, "step %d at %v", i, s.at)
	}
}

// timed gives steps without a time one a millisecond after the step before.
func timed(steps []step) []step {
	for i := 1; i < len(steps); i++ {
		if steps[i].at == 0 {
			steps[i].at = steps[i-1].at + time.Millisecond
		}
	}
	return steps
}

func reply(seq uint64, res kv.Result) c.Input {
	return c.Receive{From: 1, Msg: rsm.Reply{Client: 9, Seq: seq, Result: kv.EncodeReply(res)}}
}

func answer(seq uint64, a kv.Answer) c.Input {
	return c.Receive{From: 1, Msg: rsm.Reply{Client: 9, Seq: seq, Result: a.Encode()}}
}

func redirect(seq, leader uint64) c.Input {
	return c.Receive{From: 1, Msg: rsm.Redirect{Client: 9, Seq: seq, Leader: leader}}
}

var fire = c.TimerFired{ID: 1000}

func newClient() *Client {
	return New(Config{ID: 9, Servers: []c.NodeID{1, 2, 3}, Timeout: 100 * time.Millisecond})
}

func TestClientProtocol(t *testing.T) {
	putOK := kv.Result{Response: kv.Response{Put: &kv.PutResponse{Header: kv.ResponseHeader{Revision: 5}}}}
	var log []string
	note := func(format string, args ...any) { log = append(log, fmt.Sprintf(format, args...)) }
	put := func(v string) func(*Client) {
		return func(cl *Client) {
			cl.Put([]byte("k"), []byte(v), 0, func(p *kv.PutResponse, err error) {
				if err != nil {
					note("put %s err=%v", v, err)
					return
				}
				note("put %s rev=%d", v, p.Header.Revision)
			})
		}
	}
	get := func(cl *Client) {
		cl.Get([]byte("k"), func(r *kv.RangeResponse, err error) { note("get n=%d err=%v", len(r.KVs), err) })
	}
	for _, tc := range []struct {
		name  string
		steps []step
		log   []string
	}{{
		name: "a write is answered",
		steps: []step{
			{at: 0, do: put("a"), want: []string{"send n1 write s=1", "timer 100ms"}},
			{at: 10 * time.Millisecond, in: reply(1, putOK), want: []string{"cancel-timer"}},
		},
		log: []string{"put a rev=5"},
	}, {
		name: "a timed-out write goes to the next server under the same seq",
		steps: []step{
			{at: 0, do: put("a"), want: []string{"send n1 write s=1", "timer 100ms"}},
			{at: 100 * time.Millisecond, in: fire, want: []string{"send n2 write s=1", "timer 100ms"}},
			{at: 150 * time.Millisecond, in: reply(1, putOK), want: []string{"cancel-timer"}},
		},
		log: []string{"put a rev=5"},
	}, {
		name: "a redirect with a leader goes there at once; without one, later to the next",
		steps: []step{
			{at: 0, do: put("a"), want: []string{"send n1 write s=1", "timer 100ms"}},
			{at: 5 * time.Millisecond, in: redirect(1, 3), want: []string{"send n3 write s=1", "timer 100ms"}},
			{at: 10 * time.Millisecond, in: redirect(1, 0), want: []string{"timer 25ms"}},
			{at: 35 * time.Millisecond, in: fire, want: []string{"send n1 write s=1", "timer 100ms"}},
		},
	}, {
		name: "writes go one at a time, in order",
		steps: []step{
			{at: 0, do: put("a"), want: []string{"send n1 write s=1", "timer 100ms"}},
			{at: 1, do: put("b"), want: nil},
			{at: 2, in: reply(1, putOK), want: []string{"send n1 write s=2", "timer 100ms"}},
			{at: 3, in: reply(1, putOK), want: nil}, // a duplicate answer
			{at: 4, in: reply(2, putOK), want: []string{"cancel-timer"}},
		},
		log: []string{"put a rev=5", "put b rev=5"},
	}, {
		name: "reads run beside a write and are retried until answered",
		steps: []step{
			{at: 0, do: put("a"), want: []string{"send n1 write s=1", "timer 100ms"}},
			{at: 0, do: get, want: []string{"send n1 read s=2"}},
			{at: 100 * time.Millisecond, in: fire, want: []string{"send n2 write s=1", "send n3 read s=2", "timer 100ms"}},
			{at: 110 * time.Millisecond, in: answer(2, kv.Answer{Range: &kv.RangeResponse{}}), want: nil},
		},
		log: []string{"get n=0 err=<nil>"},
	}, {
		name: "a forgotten read is not retried",
		steps: []step{
			{at: 0, do: func(cl *Client) { cl.Forget(cl.Get([]byte("k"), nil)) }, want: []string{"send n1 read s=1"}},
			{at: 50 * time.Millisecond, in: answer(1, kv.Answer{Range: &kv.RangeResponse{}}), want: nil},
		},
	}, {
		name: "a definite error reaches the caller",
		steps: []step{
			{at: 0, do: put("a"), want: []string{"send n1 write s=1", "timer 100ms"}},
			{at: 1, in: reply(1, kv.Result{Err: kv.ErrLeaseNotFound}), want: []string{"cancel-timer"}},
		},
		log: []string{"put a err=etcdserver: requested lease not found"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			log = nil
			run(t, newClient(), tc.steps)
			assert.Equal(t, tc.log, log)
		})
	}
}

func granted(id kv.LeaseID, ttl int64) kv.Result {
	return kv.Result{Response: kv.Response{LeaseGrant: &kv.LeaseGrantResponse{ID: id, TTL: ttl}}}
}

func keptAlive(id kv.LeaseID, ttl int64) kv.Answer {
	return kv.Answer{KeepAlive: &kv.LeaseKeepAliveResponse{ID: id, TTL: ttl}}
}

func TestSessionKeepsItsLeaseAlive(t *testing.T) {
	cl := newClient()
	var s *Session
	var log []string
	start := func(cl *Client) {
		NewSession(cl, 3, func(got *Session, err error) {
			require.NoError(t, err)
			s = got
			s.OnKeepAlive = func(id kv.LeaseID, sent time.Duration, ttl int64) {
				log = append(log, fmt.Sprintf("kept %d sent=%v ttl=%d", id, sent, ttl))
			}
			s.OnLost = func() { log = append(log, "lost") }
		})
	}
	run(t, cl, []step{
		{at: 0, do: start, want: []string{"send n1 write s=1", "timer 100ms"}},
		{at: 10 * time.Millisecond, in: reply(1, granted(7, 3)), want: []string{"timer 1s"}}, // TTL/3
		{at: 1010 * time.Millisecond, in: fire, want: []string{"send n1 read s=2", "timer 100ms"}},
		// Unanswered: retried elsewhere; the promise counts from the first send.
		{at: 1110 * time.Millisecond, in: fire, want: []string{"send n2 read s=2", "timer 100ms"}},
		{at: 1120 * time.Millisecond, in: answer(2, keptAlive(7, 3)), want: []string{"timer 890ms"}},
		{at: 2010 * time.Millisecond, in: fire, want: []string{"send n2 read s=3", "timer 100ms"}},
		{at: 2020 * time.Millisecond, in: answer(3, kv.Answer{Err: kv.ErrLeaseNotFound}), want: []string{"cancel-timer"}},
	})
	assert.Equal(t, []string{"kept 7 sent=1.01s ttl=3", "lost"}, log)
	assert.True(t, s.Lost())
}

// queue answers a read of the lock prefix with the given (key, create revision) pairs.
func queue(seq uint64, rev int64, keys ...any) c.Input {
	r := &kv.RangeResponse{Header: kv.ResponseHeader{Revision: rev}}
	for i := 0; i < len(keys); i += 2 {
		r.KVs = append(r.KVs, kv.KeyValue{Key: []byte(keys[i].(string)), CreateRevision: int64(keys[i+1].(int))})
	}
	return answer(seq, kv.Answer{Range: r})
}

func txnDone(succeeded bool, rev int64, ops ...kv.ResponseOp) c.Input {
	return reply(0, kv.Result{Response: kv.Response{Txn: &kv.TxnResponse{Header: kv.ResponseHeader{Revision: rev}, Succeeded: succeeded, Responses: ops}}})
}

func withSeq(in c.Input, seq uint64) c.Input {
	r := in.(c.Receive)
	m := r.Msg.(rsm.Reply)
	m.Seq = seq
	r.Msg = m
	return r
}

func deleted(key string, rev int64) c.Input {
	w := kv.WatchResponse{Events: []kv.Event{{Type: kv.EventDelete, KV: kv.KeyValue{Key: []byte(key), ModRevision: rev}}}}
	return c.Receive{From: 2, Msg: rsm.Pushed{Data: kv.EncodeWatchResponse(w)}}
}

func TestMutex(t *testing.T) {
	var log []string
	note := func(format string, args ...any) { log = append(log, fmt.Sprintf(format, args...)) }
	session := func(cl *Client) *Session {
		s := &Session{cl: cl, id: 0xa, ttl: 3}
		return s
	}
	for _, tc := range []struct {
		name  string
		steps func(m *Mutex) []step
		log   []string
	}{{
		name: "no predecessor: the lock is held at the create revision",
		steps: func(m *Mutex) []step {
			return []step{
				{do: func(*Client) { m.Lock(func(tok int64, err error) { note("locked %d %v", tok, err) }) }, want: []string{"send n1 write s=1", "timer 100ms"}},
				{in: withSeq(txnDone(true, 12), 1), want: []string{"send n1 read s=2", "timer 100ms"}},
				{in: queue(2, 12, "lock/a", 12), want: []string{"cancel-timer"}},
				{do: func(*Client) {
					put := kv.RequestOp{Put: &kv.PutRequest{Key: []byte("r"), Value: []byte("v")}}
					m.Fenced([]kv.RequestOp{put}, func(_ *kv.TxnResponse, err error) { note("fenced %v", err) })
				}, want: []string{"send n1 write s=3", "timer 100ms"}},
				{in: withSeq(txnDone(true, 13), 3), want: []string{"cancel-timer"}},
				{do: func(*Client) { m.Unlock(func(err error) { note("unlocked %v", err) }) }, want: []string{"send n1 write s=4", "timer 100ms"}},
				{in: withSeq(txnDone(false, 14), 4), want: []string{"cancel-timer"}},
			}
		},
		log: []string{"locked 12 <nil>", "fenced <nil>", "unlocked client: mutex not held"},
	}, {
		name: "a predecessor: wait for its deletion, then read again",
		steps: func(m *Mutex) []step {
			return []step{
				{do: func(*Client) { m.Lock(func(tok int64, err error) { note("locked %d %v", tok, err) }) }, want: []string{"send n1 write s=1", "timer 100ms"}},
				{in: withSeq(txnDone(true, 12), 1), want: []string{"send n1 read s=2", "timer 100ms"}},
				{in: queue(2, 12, "lock/5", 7, "lock/9", 9, "lock/a", 12, "lock/b", 15), want: []string{"send n1 watch s=3", "timer 250ms"}},
				{in: deleted("lock/5", 13), want: nil}, // not the predecessor
				{in: deleted("lock/9", 14), want: []string{"send n1 read s=4", "timer 100ms"}},
				{in: queue(4, 14, "lock/5", 7, "lock/a", 12), want: []string{"send n1 watch s=5", "timer 250ms"}},
				{at: 255 * time.Millisecond, in: fire, want: []string{"send n1 read s=6", "timer 100ms"}}, // the poll
				{at: 265 * time.Millisecond, in: queue(6, 16, "lock/a", 12), want: []string{"cancel-timer"}},
			}
		},
		log: []string{"locked 12 <nil>"},
	}, {
		name: "the key already exists (a retried lock): its create revision is the token",
		steps: func(m *Mutex) []step {
			kvs := kv.ResponseOp{Range: &kv.RangeResponse{KVs: []kv.KeyValue{{Key: []byte("lock/a"), CreateRevision: 8}}}}
			return []step{
				{do: func(*Client) { m.Lock(func(tok int64, err error) { note("locked %d %v", tok, err) }) }, want: []string{"send n1 write s=1", "timer 100ms"}},
				{in: withSeq(txnDone(false, 12, kvs), 1), want: []string{"send n1 read s=2", "timer 100ms"}},
				{in: queue(2, 12, "lock/a", 8), want: []string{"cancel-timer"}},
			}
		},
		log: []string{"locked 8 <nil>"},
	}, {
		name: "our key vanished while waiting: the session expired",
		steps: func(m *Mutex) []step {
			return []step{
				{do: func(*Client) { m.Lock(func(tok int64, err error) { note("locked %d %v", tok, err) }) }, want: []string{"send n1 write s=1", "timer 100ms"}},
				{in: withSeq(txnDone(true, 12), 1), want: []string{"send n1 read s=2", "timer 100ms"}},
				{in: queue(2, 20, "lock/5", 7), want: []string{"cancel-timer"}},
			}
		},
		log: []string{"locked 0 client: session expired"},
	}, {
		name: "abort while waiting: no callback, the key is deleted",
		steps: func(m *Mutex) []step {
			return []step{
				{do: func(*Client) { m.Lock(func(tok int64, err error) { note("locked %d %v", tok, err) }) }, want: []string{"send n1 write s=1", "timer 100ms"}},
				{in: withSeq(txnDone(true, 12), 1), want: []string{"send n1 read s=2", "timer 100ms"}},
				{in: queue(2, 12, "lock/5", 7, "lock/a", 12), want: []string{"send n1 watch s=3", "timer 250ms"}},
				{do: func(*Client) { m.Abort() }, want: []string{"send n1 write s=4", "timer 100ms"}},
				{in: deleted("lock/5", 13), want: nil},
				{in: reply(4, kv.Result{Response: kv.Response{DeleteRange: &kv.DeleteRangeResponse{}}}), want: []string{"cancel-timer"}},
			}
		},
		log: nil,
	}, {
		name: "a fenced write without the lock is refused locally",
		steps: func(m *Mutex) []step {
			return []step{{do: func(*Client) {
				m.Fenced(nil, func(_ *kv.TxnResponse, err error) { note("fenced %v", err) })
			}, want: nil}}
		},
		log: []string{"fenced client: mutex not held"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			log = nil
			cl := newClient()
			m := NewMutex(session(cl), "lock/")
			require.Equal(t, "lock/a", string(m.Key()))
			run(t, cl, timed(tc.steps(m)))
			assert.Equal(t, tc.log, log)
		})
	}
}

func TestElection(t *testing.T) {
	cl := newClient()
	e := NewElection(&Session{cl: cl, id: 0xb, ttl: 3}, "elect/")
	var log []string
	run(t, cl, timed([]step{
		{do: func(*Client) {
			e.Campaign([]byte("me"), func(rev int64, err error) { log = append(log, fmt.Sprintf("leading %d %v", rev, err)) })
		}, want: []string{"send n1 write s=1", "timer 100ms"}},
		{in: withSeq(txnDone(true, 4), 1), want: []string{"send n1 read s=2", "timer 100ms"}},
		{in: queue(2, 4, "elect/b", 4), want: []string{"cancel-timer"}},
		{do: func(*Client) {
			e.Proclaim([]byte("me2"), func(err error) { log = append(log, fmt.Sprintf("proclaimed %v", err)) })
		},
			want: []string{"send n1 write s=3", "timer 100ms"}},
		{in: withSeq(txnDone(true, 5), 3), want: []string{"cancel-timer"}},
		{do: func(*Client) {
			Leader(cl, "elect/", func(kv *kv.KeyValue, err error) { log = append(log, fmt.Sprintf("leader %s %v", kv.Key, err)) })
		}, want: []string{"send n1 read s=4", "timer 100ms"}},
		{in: queue(4, 5, "elect/b", 4), want: []string{"cancel-timer"}},
	}))
	assert.Equal(t, []string{"leading 4 <nil>", "proclaimed <nil>", "leader elect/b <nil>"}, log)
	assert.True(t, e.Leading())
	assert.True(t, strings.HasPrefix(string(e.m.Key()), "elect/"))
}
