package client

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/orrery/orrery/node/kv"
)

// ErrNotHeld reports a fenced operation or an unlock by a mutex that does not hold its
// key any more (its session expired), or never did.
var ErrNotHeld = errors.New("client: mutex not held")

// pollEvery is how often a waiting mutex re-reads the queue even without a watch event:
// pushes may be lost and streams die with their member.
const pollEvery = 250 * time.Millisecond

// Mutex is etcd's concurrency.Mutex: each contender puts prefix/<lease-hex> under its
// session's lease, if absent, and the key's create revision orders the queue; a contender
// holds the lock once no key under the prefix has a lower create revision, and waits for
// the deletion of the key just before its own. The create revision is the holder's
// fencing token: Fenced guards a transaction with it. Build it with NewMutex.
type Mutex struct {
	s      *Session
	prefix []byte
	key    []byte
	rev    int64  // the key's create revision once created
	gen    uint64 // bumped by Abort: callbacks of an older attempt do nothing
	read   uint64 // the read in flight while waiting
	poll   uint64 // the poll alarm while waiting
	held   bool
}

// NewMutex returns a mutex on prefix (ending in "/", say) for the session.
func NewMutex(s *Session, prefix string) *Mutex {
	return &Mutex{s: s, prefix: []byte(prefix), key: fmt.Appendf(nil, "%s%x", prefix, s.id)}
}

// Key returns the mutex's key. Token returns its fencing token once locked.
func (m *Mutex) Key() []byte  { return m.key }
func (m *Mutex) Token() int64 { return m.rev }

// Held reports whether Lock succeeded and neither Unlock nor a failed fenced operation
// has said otherwise since.
func (m *Mutex) Held() bool { return m.held }

// Lock queues for the lock and reports the fencing token once held, or an error
// (ErrSessionExpired when the session's lease went away meanwhile).
func (m *Mutex) Lock(done func(token int64, err error)) { m.lock(nil, done) }

func (m *Mutex) lock(value []byte, done func(int64, error)) {
	gen := m.gen
	cl := m.s.cl
	cl.Txn(kv.TxnRequest{
		Compare: []kv.Compare{{Result: kv.CompareEqual, Target: kv.TargetCreate, Key: m.key}},
		Success: []kv.RequestOp{{Put: &kv.PutRequest{Key: m.key, Value: value, Lease: m.s.id}}},
		Failure: []kv.RequestOp{{Range: &kv.RangeRequest{Key: m.key}}},
	}, func(t *kv.TxnResponse, err error) {
		if gen != m.gen {
			return
		}
		switch {
		case errors.Is(err, kv.ErrLeaseNotFound):
			done(0, ErrSessionExpired)
			return
		case err != nil:
			done(0, err)
			return
		case t.Succeeded:
			m.rev = t.Header.Revision
		case len(t.Responses) == 1 && t.Responses[0].Range != nil && len(t.Responses[0].Range.KVs) == 1:
			m.rev = t.Responses[0].Range.KVs[0].CreateRevision
		default:
			done(0, ErrMalformed)
			return
		}
		m.check(gen, done)
	})
}

// check reads the queue (linearizably: a stale read could miss a key created before ours)
// and either takes the lock or waits for the key just before ours.
func (m *Mutex) check(gen uint64, done func(int64, error)) {
	cl := m.s.cl
	m.read = cl.Range(kv.RangeRequest{Key: m.prefix, RangeEnd: kv.Prefix(m.prefix)}, func(r *kv.RangeResponse, err error) {
		m.read = 0
		if gen != m.gen {
			return
		}
		if err != nil {
			done(0, err)
			return
		}
		own, pred := false, kv.KeyValue{}
		for _, x := range r.KVs {
			switch {
			case bytes.Equal(x.Key, m.key) && x.CreateRevision == m.rev:
				own = true
			case x.CreateRevision < m.rev && x.CreateRevision > pred.CreateRevision:
				pred = x
			}
		}
		switch {
		case !own:
			done(0, ErrSessionExpired)
		case pred.CreateRevision == 0:
			m.held = true
			done(m.rev, nil)
		default:
			m.wait(gen, pred.Key, r.Header.Revision, done)
		}
	})
}

// wait watches pred for its deletion after rev and reads the queue again on an event or
// every pollEvery, whichever comes first.
func (m *Mutex) wait(gen uint64, pred []byte, rev int64, done func(int64, error)) {
	cl := m.s.cl
	again := func() {
		cl.StopWatch()
		cl.CancelAlarm(m.poll)
		m.check(gen, done)
	}
	cl.Watch(kv.WatchRequest{Key: pred, StartRevision: rev + 1}, func(w kv.WatchResponse) {
		if gen != m.gen {
			return
		}
		for _, ev := range w.Events {
			if ev.Type == kv.EventDelete && bytes.Equal(ev.KV.Key, pred) && ev.KV.ModRevision > rev {
				again()
				return
			}
		}
	})
	m.poll = cl.After(pollEvery, again)
}

// Abort gives up a Lock in progress (its callback will not run) or the lock itself: the
// key is deleted, after any write of the mutex still on its way.
func (m *Mutex) Abort() {
	cl := m.s.cl
	m.gen++
	m.held = false
	if m.read != 0 {
		cl.Forget(m.read)
		m.read = 0
	}
	cl.CancelAlarm(m.poll)
	cl.StopWatch()
	cl.Delete(m.key, func(*kv.DeleteRangeResponse, error) {})
}

// Fenced runs ops in a transaction guarded by the fencing token: it succeeds only while
// the mutex's key is the one it created. A failed guard (ErrNotHeld) means the lock is
// lost; the mutex then no longer counts as held.
func (m *Mutex) Fenced(ops []kv.RequestOp, done func(*kv.TxnResponse, error)) {
	if !m.held {
		done(nil, ErrNotHeld)
		return
	}
	m.s.cl.Txn(kv.TxnRequest{Compare: []kv.Compare{m.guard()}, Success: ops}, func(t *kv.TxnResponse, err error) {
		if err == nil && !t.Succeeded {
			m.held, err = false, ErrNotHeld
		}
		done(t, err)
	})
}

func (m *Mutex) guard() kv.Compare {
	return kv.Compare{Result: kv.CompareEqual, Target: kv.TargetCreate, Key: m.key, CreateRevision: m.rev}
}

// Unlock deletes the key if it is still the one Lock created; done hears ErrNotHeld when
// it was not (the session expired, and with it the lock, before the unlock).
func (m *Mutex) Unlock(done func(error)) {
	m.held = false
	m.s.cl.Txn(kv.TxnRequest{
		Compare: []kv.Compare{m.guard()},
		Success: []kv.RequestOp{{DeleteRange: &kv.DeleteRangeRequest{Key: m.key}}},
	}, func(t *kv.TxnResponse, err error) {
		if err == nil && !t.Succeeded {
			err = ErrNotHeld
		}
		done(err)
	})
}
