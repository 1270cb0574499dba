package client

import (
	"errors"

	"github.com/orrery/orrery/node/kv"
)

// ErrNoLeader reports that nobody is campaigning.
var ErrNoLeader = errors.New("client: election has no leader")

// Election is etcd's concurrency.Election: campaigning queues like a Mutex, with the
// candidate's value in its key; the candidate with the lowest create revision leads.
// Build it with NewElection.
type Election struct {
	m *Mutex
}

// NewElection returns an election on prefix for the session.
func NewElection(s *Session, prefix string) *Election { return &Election{m: NewMutex(s, prefix)} }

// Campaign queues with value and reports once this candidate leads; rev is its
// leadership's fencing token.
func (e *Election) Campaign(value []byte, done func(rev int64, err error)) { e.m.lock(value, done) }

// Proclaim replaces the leader's value, if this candidate still leads.
func (e *Election) Proclaim(value []byte, done func(error)) {
	op := kv.RequestOp{Put: &kv.PutRequest{Key: e.m.key, Value: value, Lease: e.m.s.id}}
	e.m.Fenced([]kv.RequestOp{op}, func(_ *kv.TxnResponse, err error) { done(err) })
}

// Resign gives up leadership (or a campaign in progress).
func (e *Election) Resign(done func(error)) {
	if !e.m.held {
		e.m.Abort()
		done(nil)
		return
	}
	e.m.Unlock(done)
}

// Leading reports whether the campaign succeeded and was not resigned or lost since.
func (e *Election) Leading() bool { return e.m.held }

// Leader reads who leads: the key with the lowest create revision under the prefix.
func Leader(cl *Client, prefix string, done func(*kv.KeyValue, error)) uint64 {
	p := []byte(prefix)
	r := kv.RangeRequest{Key: p, RangeEnd: kv.Prefix(p), Limit: 1, SortOrder: kv.SortAscend, SortTarget: kv.SortByCreate}
	return cl.Range(r, func(resp *kv.RangeResponse, err error) {
		switch {
		case err != nil:
			done(nil, err)
		case len(resp.KVs) == 0:
			done(nil, ErrNoLeader)
		default:
			done(&resp.KVs[0], nil)
		}
	})
}
