package jepsen

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/orrery/orrery/checker"
	"github.com/orrery/orrery/checker/history"
)

// registerWorkload runs get (linearizable), put and cas on independent registers. Keys
// are used in groups: keys registers at a time, each group retired after keys*perKey
// operations, so no key's history grows too long for the linearizability search.
// Values are small integers, so a cas often finds its expected value.
type registerWorkload struct {
	keys, perKey int
	n            atomic.Int64

	mu      sync.Mutex
	touched map[string]bool
}

func (w *registerWorkload) open(context.Context, *env) error { return nil }
func (w *registerWorkload) closeClient(*client)              {}

func (w *registerWorkload) key(c *client) string {
	n := w.n.Add(1) - 1
	group := n / int64(w.keys*w.perKey)
	k := fmt.Sprintf("r%d", group*int64(w.keys)+int64(c.rng.Intn(w.keys)))
	w.mu.Lock()
	if w.touched == nil {
		w.touched = map[string]bool{}
	}
	w.touched[k] = true
	w.mu.Unlock()
	return k
}

func (w *registerWorkload) op(ctx context.Context, c *client) {
	key := w.key(c)
	v := func() string { return strconv.Itoa(c.rng.Intn(5)) }
	switch c.rng.Intn(3) {
	case 0:
		registerGet(ctx, c, key)
	case 1:
		val := v()
		c.do(ctx, "put", key, history.Str(val), func(ctx context.Context) result {
			resp, err := c.cli.Put(ctx, key, val)
			if err != nil {
				return failed(err, false, history.Str(val))
			}
			r := okResult(history.Str(val))
			r.extra = revExtra(resp.Header.Revision)
			return r
		})
	default:
		from, to := v(), v()
		in := history.List(history.Str(from), history.Str(to))
		c.do(ctx, "cas", key, in, func(ctx context.Context) result {
			resp, err := c.cli.Txn(ctx).
				If(clientv3.Compare(clientv3.Value(key), "=", from)).
				Then(clientv3.OpPut(key, to)).Commit()
			if err != nil {
				return failed(err, false, in)
			}
			if !resp.Succeeded {
				return result{typ: history.Fail, value: in}
			}
			r := okResult(in)
			r.extra = revExtra(resp.Header.Revision)
			return r
		})
	}
}

func registerGet(ctx context.Context, c *client, key string) result {
	return c.do(ctx, "get", key, history.Null(), func(ctx context.Context) result {
		resp, err := c.cli.Get(ctx, key)
		if err != nil {
			return failed(err, true, history.Null())
		}
		if len(resp.Kvs) == 0 {
			return okResult(history.Null())
		}
		return okResult(history.Str(string(resp.Kvs[0].Value)))
	})
}

// finish reads every register once more, after the cluster healed.
func (w *registerWorkload) finish(ctx context.Context, e *env) error {
	w.mu.Lock()
	keys := make([]string, 0, len(w.touched))
	for k := range w.touched {
		keys = append(keys, k)
	}
	w.mu.Unlock()
	slices.Sort(keys)
	return finalOps(ctx, e, func(ctx context.Context, c *client) bool {
		for len(keys) > 0 {
			if registerGet(ctx, c, keys[0]).typ != history.OK {
				return false
			}
			keys = keys[1:]
		}
		return true
	})
}

func (w *registerWorkload) check(events []history.Event, opts checker.Options) (verdictReport, error) {
	res, err := checker.Check("register", events, opts)
	if err != nil {
		return verdictReport{}, err
	}
	rep := verdictReport{vis: &res, details: map[string]any{
		"model": res.Model, "verdict": string(res.Verdict), "ops": res.Ops, "keys": res.Keys,
	}}
	switch res.Verdict {
	case checker.Linearizable:
		rep.valid = Valid
		rep.summary = fmt.Sprintf("linearizable (%d operations on %d keys)", res.Ops, res.Keys)
	case checker.Illegal:
		rep.valid = Invalid
		rep.summary = "not linearizable: " + res.Violation
		rep.details["illegal_keys"] = res.IllegalKeys
		rep.details["violation"] = res.Violation
	default:
		rep.valid = Unknown
		rep.summary = fmt.Sprintf("unknown: the checker gave up (%d operations on %d keys)", res.Ops, res.Keys)
	}
	return rep, nil
}
