package client

import (
	"errors"
	"time"

	"github.com/orrery/orrery/node/kv"
)

// ErrSessionExpired reports that a session's lease is gone: every key it held went with it.
var ErrSessionExpired = errors.New("client: session expired")

// Session is a lease kept alive by keep-alives every TTL/3, like etcd's
// concurrency.Session. Build it with NewSession.
type Session struct {
	cl      *Client
	id      kv.LeaseID
	ttl     int64
	lost    bool
	pending uint64 // the keep-alive in flight, 0 for none
	alarm   uint64
	// OnKeepAlive, when set, hears every keep-alive the leader answered: the lease will
	// not expire before sent+ttl (local time) on the leader's clock.
	OnKeepAlive func(id kv.LeaseID, sent time.Duration, ttl int64)
	// OnLost, when set, hears that the lease is gone.
	OnLost func()
}

// NewSession grants a lease of ttl seconds and reports the session once it is granted.
func NewSession(cl *Client, ttl int64, ready func(*Session, error)) {
	cl.Grant(ttl, func(g *kv.LeaseGrantResponse, err error) {
		if err != nil {
			ready(nil, err)
			return
		}
		s := &Session{cl: cl, id: g.ID, ttl: g.TTL}
		s.schedule()
		ready(s, nil)
	})
}

// Lease returns the session's lease.
func (s *Session) Lease() kv.LeaseID { return s.id }

// TTL returns the granted TTL in seconds.
func (s *Session) TTL() int64 { return s.ttl }

// Lost reports whether the session learned that its lease is gone (or was closed).
func (s *Session) Lost() bool { return s.lost }

func (s *Session) period() time.Duration { return time.Duration(s.ttl) * time.Second / 3 }

func (s *Session) schedule() { s.alarm = s.cl.After(s.period(), s.keepAlive) }

// keepAlive sends a keep-alive, giving up on the previous one if it is still unanswered
// (a fresh one promises more).
func (s *Session) keepAlive() {
	if s.lost {
		return
	}
	if s.pending != 0 {
		s.cl.Forget(s.pending)
	}
	s.pending = s.cl.KeepAlive(s.id, func(ttl int64, sent time.Duration, err error) {
		s.pending = 0
		switch {
		case errors.Is(err, kv.ErrLeaseNotFound):
			s.expire()
		case err == nil && s.OnKeepAlive != nil:
			s.OnKeepAlive(s.id, sent, ttl)
		}
	})
	s.schedule()
}

func (s *Session) expire() {
	if s.lost {
		return
	}
	s.stop()
	if s.OnLost != nil {
		s.OnLost()
	}
}

func (s *Session) stop() {
	s.lost = true
	s.cl.CancelAlarm(s.alarm)
	if s.pending != 0 {
		s.cl.Forget(s.pending)
		s.pending = 0
	}
}

// Close stops the keep-alives and revokes the lease, deleting its keys.
func (s *Session) Close(done func(error)) {
	s.stop()
	s.cl.Revoke(s.id, done)
}
