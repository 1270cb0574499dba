package jepsen

import (
	"context"
	"fmt"
	"strconv"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/orrery/orrery/checker"
	"github.com/orrery/orrery/checker/history"
)

const (
	lockPrefix   = "lock/mutex/"
	lockResource = "lock/resource"
	lockTTL      = 5 // seconds: a lost holder's lease expires this long after it went quiet
)

// lockWorkload has each client take a concurrency.Mutex in its own session, write the
// resource fenced by its token (a txn that applies only while the mutex key's
// create_revision is still the token), and release the mutex only if its key is still
// in place. The history is what checker.CheckLock reads: acquire, write and release,
// with the token as the ok value.
type lockWorkload struct{}

func (w *lockWorkload) open(context.Context, *env) error { return nil }

func (w *lockWorkload) closeClient(c *client) {
	if s, ok := c.state.(*concurrency.Session); ok {
		abandon(s)
		c.state = nil
	}
}

// abandon closes a session in the background: Close revokes its lease, which releases
// whatever it holds; if the revoke fails the lease expires on its own.
func abandon(s *concurrency.Session) {
	go func() { _ = s.Close() }()
}

// session returns c's session, making a new one when it has none or it expired.
func (w *lockWorkload) session(ctx context.Context, c *client) (*concurrency.Session, error) {
	if s, ok := c.state.(*concurrency.Session); ok {
		select {
		case <-s.Done():
			abandon(s)
		default:
			return s, nil
		}
	}
	gctx, cancel := context.WithTimeout(ctx, c.env.timeout)
	lease, err := c.cli.Grant(gctx, lockTTL)
	cancel()
	if err != nil {
		return nil, err
	}
	// The session's keepalive outlives this operation: it runs until the session closes.
	s, err := concurrency.NewSession(c.cli, concurrency.WithTTL(lockTTL),
		concurrency.WithContext(context.WithoutCancel(ctx)), concurrency.WithLease(lease.ID))
	if err != nil {
		return nil, err
	}
	c.state = s
	return s, nil
}

func (w *lockWorkload) op(ctx context.Context, c *client) {
	s, err := w.session(ctx, c)
	if err != nil {
		sleepCtx(ctx, 100*time.Millisecond)
		return
	}
	w.cycle(ctx, c, s)
}

// cycle acquires, writes and releases, abandoning the session after an indefinite
// outcome (which may leave the mutex key in place).
func (w *lockWorkload) cycle(ctx context.Context, c *client, s *concurrency.Session) bool {
	m := concurrency.NewMutex(s, lockPrefix)
	var token string
	r := c.do(ctx, "acquire", lockPrefix, history.Null(), func(ctx context.Context) result {
		if err := m.Lock(ctx); err != nil {
			if err == concurrency.ErrSessionExpired {
				return result{typ: history.Fail, extra: errExtra(err)}
			}
			return failed(err, false, history.Null())
		}
		own := m.IsOwner()
		token = strconv.FormatInt(own.GetCompare().GetCreateRevision(), 10)
		return okResult(history.Str(token))
	})
	if r.typ != history.OK {
		if r.typ == history.Info {
			w.closeClient(c)
		}
		return false
	}
	fenced := func(f string, then clientv3.Op) bool {
		r := c.do(ctx, f, lockResource, history.Str(token), func(ctx context.Context) result {
			resp, err := c.cli.Txn(ctx).If(m.IsOwner()).Then(then).Commit()
			if err != nil {
				return failed(err, false, history.Str(token))
			}
			if !resp.Succeeded {
				return result{typ: history.Fail, value: history.Str(token)}
			}
			return okResult(history.Str(token))
		})
		if r.typ == history.Info {
			w.closeClient(c)
		}
		return r.typ == history.OK
	}
	wrote := fenced("write", clientv3.OpPut(lockResource, token))
	if c.state == nil {
		return false
	}
	released := fenced("release", clientv3.OpDelete(m.Key()))
	return wrote && released
}

// finish takes the lock once more after the cluster healed: the lock must be free again.
func (w *lockWorkload) finish(ctx context.Context, e *env) error {
	return finalOps(ctx, e, func(ctx context.Context, c *client) bool {
		s, err := w.session(ctx, c)
		if err != nil {
			return false
		}
		ok := w.cycle(ctx, c, s)
		if ok {
			w.closeClient(c)
		}
		return ok
	})
}

func (w *lockWorkload) check(events []history.Event, _ checker.Options) (verdictReport, error) {
	res, err := checker.CheckLock(events)
	if err != nil {
		return verdictReport{}, err
	}
	rep := verdictReport{valid: Valid, details: map[string]any{
		"acquired": res.Acquired, "writes": res.Writes,
	}, summary: fmt.Sprintf("the lock's promises hold (%d acquisitions, %d fenced writes)", res.Acquired, res.Writes)}
	if res.Violation != "" {
		rep.valid = Invalid
		rep.details["violation"] = res.Violation
		rep.summary = "lock broken: " + res.Violation
	}
	return rep, nil
}

// sleepCtx sleeps for d or until ctx ends; it reports whether the full time passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
