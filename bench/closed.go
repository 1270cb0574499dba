package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// op performs request n of a client; it reports how many operations it did (fill writes
// several keys per request).
type op func(ctx context.Context, n int) (int, error)

// closedLoop runs the request/response workloads: every client sends its next request as
// soon as the previous one is answered.
func (r *runner) closedLoop(ctx context.Context) (Result, error) {
	ops := make([]op, r.cfg.Clients)
	var cleanups []func()
	defer func() {
		for _, f := range cleanups {
			f()
		}
	}()
	for i := range ops {
		o, cleanup, err := r.newOp(ctx, i)
		if err != nil {
			return Result{}, err
		}
		ops[i] = o
		if cleanup != nil {
			cleanups = append(cleanups, cleanup)
		}
	}
	ctr := &atomicCounter{total: int64(r.cfg.Total), deadline: time.Now().Add(r.cfg.Duration)}
	if r.cfg.Workload == "fill" {
		ctr.total = int64((r.cfg.Keys + r.cfg.TxnOps - 1) / r.cfg.TxnOps)
	}
	var t tally
	var wg sync.WaitGroup
	start := time.Now()
	for i := range ops {
		wg.Go(func() { r.client(ctx, ops[i], ctr, &t) })
	}
	wg.Wait()
	return t.result(time.Since(start)), ctx.Err()
}

func (r *runner) client(ctx context.Context, o op, ctr *atomicCounter, t *tally) {
	var samples []time.Duration
	ops, errs := 0, 0
	var first error
	for ctx.Err() == nil {
		n, ok := ctr.take()
		if !ok {
			break
		}
		rctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
		t0 := time.Now()
		k, err := o(rctx, n)
		d := time.Since(t0)
		cancel()
		if err != nil {
			errs++
			if first == nil {
				first = err
			}
			continue
		}
		ops += k
		samples = append(samples, d)
	}
	t.add(samples, ops, errs, first)
}

// newOp builds client i's request function, with a cleanup to run after the run.
func (r *runner) newOp(ctx context.Context, i int) (op, func(), error) {
	c := r.conns[i%len(r.conns)]
	rnd := newRand(i)
	val := string(r.value)
	switch r.cfg.Workload {
	case "put":
		return func(ctx context.Context, _ int) (int, error) {
			_, err := c.Put(ctx, Key(rnd.IntN(r.cfg.Keys)), val)
			return 1, err
		}, nil, nil
	case "get", "sget":
		var opts []clientv3.OpOption
		if r.cfg.Workload == "sget" {
			opts = append(opts, clientv3.WithSerializable())
		}
		return func(ctx context.Context, _ int) (int, error) {
			_, err := c.Get(ctx, Key(rnd.IntN(r.cfg.Keys)), opts...)
			return 1, err
		}, nil, nil
	case "txn":
		return r.casOp(ctx, c, i, val)
	case "lease":
		return r.leaseOp(ctx, c)
	case "fill":
		return func(ctx context.Context, n int) (int, error) {
			lo, hi := n*r.cfg.TxnOps, min((n+1)*r.cfg.TxnOps, r.cfg.Keys)
			puts := make([]clientv3.Op, 0, hi-lo)
			for k := lo; k < hi; k++ {
				puts = append(puts, clientv3.OpPut(Key(k), val))
			}
			_, err := c.Txn(ctx).Then(puts...).Commit()
			return hi - lo, err
		}, nil, nil
	}
	return nil, nil, fmt.Errorf("%w: workload %q", ErrConfig, r.cfg.Workload)
}

// casOp updates the client's own key with a Txn that succeeds only if the key is unchanged
// since the client last saw it; after a failure it retries with the revision the Else
// branch read.
func (r *runner) casOp(ctx context.Context, c *clientv3.Client, i int, val string) (op, func(), error) {
	key := fmt.Sprintf("bench-cas/%06d", i)
	g, err := c.Get(ctx, key)
	if err != nil {
		return nil, nil, fmt.Errorf("bench: txn setup: %w", err)
	}
	var rev int64
	if len(g.Kvs) > 0 {
		rev = g.Kvs[0].ModRevision
	}
	return func(ctx context.Context, _ int) (int, error) {
		resp, err := c.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
			Then(clientv3.OpPut(key, val)).
			Else(clientv3.OpGet(key)).Commit()
		if err != nil {
			return 0, err
		}
		if resp.Succeeded {
			rev = resp.Header.Revision
		} else if kvs := resp.Responses[0].GetResponseRange().GetKvs(); len(kvs) > 0 {
			rev = kvs[0].ModRevision
		}
		return 1, nil
	}, nil, nil
}

// leaseOp grants the client a lease and renews it once per request.
func (r *runner) leaseOp(ctx context.Context, c *clientv3.Client) (op, func(), error) {
	l, err := c.Grant(ctx, 60)
	if err != nil {
		return nil, nil, fmt.Errorf("bench: lease grant: %w", err)
	}
	revoke := func() {
		rctx, cancel := context.WithTimeout(context.Background(), r.cfg.Timeout)
		defer cancel()
		c.Revoke(rctx, l.ID) //nolint:errcheck // best effort: the lease expires anyway
	}
	return func(ctx context.Context, _ int) (int, error) {
		_, err := c.KeepAliveOnce(ctx, l.ID)
		return 1, err
	}, revoke, nil
}
