package client

import (
	"time"

	"github.com/orrery/orrery/node/kv"
)

// The typed calls. Each runs done once, with the response or the definite error the
// store answered (kv's sentinel errors), or ErrMalformed. Callbacks run inside Handle;
// calls made from them are sent with the next Flush.

// Do sends a command (a write) and reports its reply.
func (cl *Client) Do(cmd kv.Command, done func(kv.Reply, error)) {
	cl.write(cmd.Encode(), func(b []byte, _ time.Duration) { done(decodeReply(b)) })
}

// Query sends a query, linearizable (through the leader's read index) or, when local,
// served by any member from its applied state. It returns an ID for Forget.
func (cl *Client) Query(q kv.Query, local bool, done func(kv.Answer, error)) uint64 {
	return cl.query(q.Encode(), local, func(b []byte, _ time.Duration) { done(decodeAnswer(b)) })
}

// Put writes key=value, attached to lease (0: none).
func (cl *Client) Put(key, value []byte, lease kv.LeaseID, done func(*kv.PutResponse, error)) {
	cl.Do(kv.Command{Put: &kv.PutRequest{Key: key, Value: value, Lease: lease}}, func(r kv.Reply, err error) {
		done(r.Put, err)
	})
}

// Get reads key linearizably.
func (cl *Client) Get(key []byte, done func(*kv.RangeResponse, error)) uint64 {
	return cl.Range(kv.RangeRequest{Key: key}, done)
}

// Range reads linearizably.
func (cl *Client) Range(r kv.RangeRequest, done func(*kv.RangeResponse, error)) uint64 {
	return cl.Query(kv.Query{Range: &r}, false, func(a kv.Answer, err error) { done(a.Range, err) })
}

// Delete deletes key.
func (cl *Client) Delete(key []byte, done func(*kv.DeleteRangeResponse, error)) {
	cl.Do(kv.Command{DeleteRange: &kv.DeleteRangeRequest{Key: key}}, func(r kv.Reply, err error) {
		done(r.DeleteRange, err)
	})
}

// Txn runs a transaction as a command.
func (cl *Client) Txn(t kv.TxnRequest, done func(*kv.TxnResponse, error)) {
	cl.Do(kv.Command{Txn: &t}, func(r kv.Reply, err error) { done(r.Txn, err) })
}

// Grant creates a lease of ttl seconds (the store may raise it to its minimum).
func (cl *Client) Grant(ttl int64, done func(*kv.LeaseGrantResponse, error)) {
	cl.Do(kv.Command{LeaseGrant: &kv.LeaseGrantRequest{TTL: ttl}}, func(r kv.Reply, err error) {
		done(r.LeaseGrant, err)
	})
}

// Revoke revokes a lease and deletes its keys.
func (cl *Client) Revoke(id kv.LeaseID, done func(error)) {
	cl.Do(kv.Command{LeaseRevoke: &kv.LeaseRevokeRequest{ID: id}}, func(_ kv.Reply, err error) { done(err) })
}

// KeepAlive renews a lease through the leader. done gets the renewed TTL and when this
// keep-alive was first sent (local time): the lease will not expire before sent+TTL on
// the leader's clock. kv.ErrLeaseNotFound means the lease is gone; kv.ErrNotLeader that
// the member lost its leadership (try again). It returns an ID for Forget.
func (cl *Client) KeepAlive(id kv.LeaseID, done func(ttl int64, sent time.Duration, err error)) uint64 {
	q := kv.Query{KeepAlive: id}
	return cl.query(q.Encode(), false, func(b []byte, sent time.Duration) {
		a, err := decodeAnswer(b)
		if err == nil && a.KeepAlive == nil {
			err = ErrMalformed
		}
		if err != nil {
			done(0, sent, err)
			return
		}
		done(a.KeepAlive.TTL, sent, nil)
	})
}
