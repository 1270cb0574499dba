package kv

import (
	"slices"
	"time"
)

// Lessor tracks when leases expire, in the local time of the node that runs it. Every node
// keeps one in step with its store (Observe, Reset), but only the leader's is primary: it
// accepts keep-alives and reports expired leases, which the leader then proposes as a
// LeaseExpire command. Deadlines are never replicated; see the package doc for why a new
// leader extends them (Promote).
type Lessor struct {
	primary  bool
	earlyBug bool // BugLeaseEarly is on
	leases   map[LeaseID]*leaseClock
}

type leaseClock struct {
	ttl      int64 // seconds
	deadline time.Duration
}

// NewLessor returns an empty, non-primary Lessor; cfg.Bugs may plant BugLeaseEarly.
func NewLessor(cfg Config) *Lessor {
	return &Lessor{leases: map[LeaseID]*leaseClock{}, earlyBug: cfg.Bugs.On(BugLeaseEarly)}
}

// Reset replaces the tracked leases with leases (a restored store's Store.Leases()), each
// due at now+TTL.
func (l *Lessor) Reset(leases []LeaseStatus, now time.Duration) {
	l.leases = map[LeaseID]*leaseClock{}
	for _, s := range leases {
		l.leases[s.ID] = &leaseClock{ttl: s.TTL, deadline: now + ttlDuration(s.TTL)}
	}
}

// Observe follows an applied Result: a granted lease is due at now+TTL, revoked leases are
// forgotten.
func (l *Lessor) Observe(res Result, now time.Duration) {
	if g := res.Granted; g != nil {
		l.leases[g.ID] = &leaseClock{ttl: g.TTL, deadline: now + ttlDuration(g.TTL)}
	}
	for _, id := range res.Revoked {
		delete(l.leases, id)
	}
}

// Promote makes the Lessor primary, as its node becomes leader, and extends every lease to
// now+TTL.
func (l *Lessor) Promote(now time.Duration) {
	l.primary = true
	if l.earlyBug {
		// The planted bug: trust the deadlines this node happens to hold, set when it
		// applied each grant and never moved by the keep-alives the old leader answered.
		return
	}
	//det:unordered each lease's deadline is set independently of the others
	for _, c := range l.leases {
		c.deadline = now + ttlDuration(c.ttl)
	}
}

// Demote makes the Lessor non-primary, as its node loses leadership.
func (l *Lessor) Demote() { l.primary = false }

// Primary reports whether the Lessor is primary.
func (l *Lessor) Primary() bool { return l.primary }

// Renew handles a keep-alive: the lease is due again at now+TTL, and its TTL is returned.
// A lease already past its deadline is as good as revoked: ErrLeaseNotFound, as etcd
// answers once the revocation lands.
func (l *Lessor) Renew(id LeaseID, now time.Duration) (int64, error) {
	if !l.primary {
		return 0, ErrNotLeader
	}
	c := l.leases[id]
	if c == nil || now >= c.deadline {
		return 0, ErrLeaseNotFound
	}
	c.deadline = now + ttlDuration(c.ttl)
	return c.ttl, nil
}

// Remaining returns the lease's remaining time in whole seconds, as a time-to-live query
// reports it, and false for an unknown lease.
func (l *Lessor) Remaining(id LeaseID, now time.Duration) (int64, bool) {
	c := l.leases[id]
	if c == nil {
		return 0, false
	}
	return max(0, int64((c.deadline-now)/time.Second)), true
}

// Expired returns the leases whose deadline is at or before now, by ID; nil unless primary.
// It does not change state: the leader proposes them and they disappear when the
// LeaseExpire command is applied (Observe). A driver should not propose a lease again
// while a proposal for it is in flight.
func (l *Lessor) Expired(now time.Duration) []LeaseID {
	if !l.primary {
		return nil
	}
	var ids []LeaseID
	for id := range l.leases {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return slices.DeleteFunc(ids, func(id LeaseID) bool { return l.leases[id].deadline > now })
}

// NextDeadline returns the earliest deadline, for arming a timer, and false if there is no
// lease.
func (l *Lessor) NextDeadline() (time.Duration, bool) {
	var next time.Duration
	found := false
	//det:unordered a minimum does not depend on the order
	for _, c := range l.leases {
		if !found || c.deadline < next {
			next, found = c.deadline, true
		}
	}
	return next, found
}

func ttlDuration(ttl int64) time.Duration { return time.Duration(ttl) * time.Second }
