package jepsen

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/orrery/orrery/checker"
	"github.com/orrery/orrery/checker/history"
)

const watchPrefix = "watch/"

// watchWorkload writes unique values to a few keys under watchPrefix (puts, and some
// deletes) and reads the whole prefix now and then (f "read"), while watchers follow the
// prefix from revision 1 with PrevKV, reconnecting and resuming after their last
// revision whenever a stream breaks. At the end it reads the prefix once more, and each
// watcher's events and a fresh replay of the prefix from revision 1 go into the history
// (f "watch" and "replay"), where CheckWatch compares them.
type watchWorkload struct {
	watchers int
	n        atomic.Int64

	cancel context.CancelFunc
	wg     sync.WaitGroup
	ws     []*watcher
}

// watcher follows the prefix; mu guards what it saw.
type watcher struct {
	process int
	cli     *clientv3.Client
	mu      sync.Mutex
	events  []history.Value
	next    int64 // the revision to resume from
	err     error // a definite end (compaction)
}

func (w *watchWorkload) open(ctx context.Context, e *env) error {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w.cancel = cancel
	for i := range w.watchers {
		// Each watcher prefers a different node but may fail over to any.
		eps := append(append([]string(nil), e.endpoints[i%len(e.endpoints):]...), e.endpoints[:i%len(e.endpoints)]...)
		cli, err := dial(eps)
		if err != nil {
			cancel()
			return fmt.Errorf("watcher %d: %w", i, err)
		}
		wt := &watcher{process: e.newProcess(), cli: cli, next: 1}
		e.rec.invoke(wt.process, "watch", watchPrefix, history.Null())
		w.ws = append(w.ws, wt)
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			wt.run(wctx)
		}()
	}
	return nil
}

// run watches until ctx ends, resuming after the last event seen.
func (wt *watcher) run(ctx context.Context) {
	for ctx.Err() == nil {
		wt.mu.Lock()
		from := wt.next
		wt.mu.Unlock()
		ch := wt.cli.Watch(clientv3.WithRequireLeader(ctx), watchPrefix, clientv3.WithPrefix(), clientv3.WithRev(from), clientv3.WithPrevKV())
		for resp := range ch {
			if resp.CompactRevision != 0 {
				wt.mu.Lock()
				wt.err = fmt.Errorf("compacted at %d", resp.CompactRevision)
				wt.mu.Unlock()
				return
			}
			wt.mu.Lock()
			for _, ev := range resp.Events {
				wt.events = append(wt.events, watchEvent(ev))
				wt.next = ev.Kv.ModRevision + 1
			}
			wt.mu.Unlock()
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// watchEvent encodes an event as [revision, "put"|"delete", key, value, create revision,
// version, prev], prev being the PrevKV as [value, create revision, mod revision,
// version], or null when the key did not exist before. Numbers are decimal strings.
func watchEvent(ev *clientv3.Event) history.Value {
	typ, val := "put", string(ev.Kv.Value)
	if ev.Type == mvccpb.DELETE {
		typ, val = "delete", ""
	}
	prev := history.Null()
	if p := ev.PrevKv; p != nil {
		prev = history.List(history.Str(string(p.Value)), num(p.CreateRevision), num(p.ModRevision), num(p.Version))
	}
	return history.List(num(ev.Kv.ModRevision), history.Str(typ), history.Str(string(ev.Kv.Key)), history.Str(val),
		num(ev.Kv.CreateRevision), num(ev.Kv.Version), prev)
}

func num(n int64) history.Value { return history.Str(strconv.FormatInt(n, 10)) }

// readPrefix reads every key under watchPrefix, recorded as f "read" with the response's
// revision and a list of [key, value, create revision, mod revision, version].
func readPrefix(ctx context.Context, c *client) (result, int64) {
	var rev int64
	r := c.do(ctx, "read", watchPrefix, history.Null(), func(ctx context.Context) result {
		resp, err := c.cli.Get(ctx, watchPrefix, clientv3.WithPrefix())
		if err != nil {
			return failed(err, true, history.Null())
		}
		kvs := make([]history.Value, 0, len(resp.Kvs))
		for _, kv := range resp.Kvs {
			kvs = append(kvs, history.List(history.Str(string(kv.Key)), history.Str(string(kv.Value)),
				num(kv.CreateRevision), num(kv.ModRevision), num(kv.Version)))
		}
		rev = resp.Header.Revision
		res := okResult(history.List(kvs...))
		res.extra = revExtra(rev)
		return res
	})
	return r, rev
}

func (w *watchWorkload) closeClient(*client) {}

func (w *watchWorkload) op(ctx context.Context, c *client) {
	key := watchPrefix + "k" + strconv.Itoa(c.rng.Intn(5))
	switch c.rng.Intn(10) {
	case 1:
		readPrefix(ctx, c)
		return
	case 0:
		c.do(ctx, "delete", key, history.Null(), func(ctx context.Context) result {
			resp, err := c.cli.Delete(ctx, key)
			if err != nil {
				return failed(err, false, history.Null())
			}
			r := okResult(history.Null())
			r.extra = revExtra(resp.Header.Revision)
			return r
		})
		return
	}
	val := strconv.FormatInt(w.n.Add(1), 10)
	c.do(ctx, "put", key, history.Str(val), func(ctx context.Context) result {
		resp, err := c.cli.Put(ctx, key, val)
		if err != nil {
			return failed(err, false, history.Str(val))
		}
		r := okResult(history.Str(val))
		r.extra = revExtra(resp.Header.Revision)
		return r
	})
}

// finish reads the prefix and with it the final revision, gives the watchers until ctx
// ends to reach it, records what each saw, and replays the prefix from revision 1 to the
// final revision.
func (w *watchWorkload) finish(ctx context.Context, e *env) error {
	defer func() {
		w.cancel()
		w.wg.Wait()
		for _, wt := range w.ws {
			wt.cli.Close()
		}
	}()
	var final int64
	err := finalOps(ctx, e, func(ctx context.Context, c *client) bool {
		var r result
		r, final = readPrefix(ctx, c)
		return r.typ == history.OK
	})
	if err != nil {
		w.recordWatchers(e)
		return err
	}
	w.awaitWatchers(ctx, final)
	w.recordWatchers(e)
	return finalOps(ctx, e, func(ctx context.Context, c *client) bool {
		return c.do(ctx, "replay", watchPrefix, history.Str(strconv.FormatInt(final, 10)), func(ctx context.Context) result {
			evs, err := replay(ctx, c.cli, final)
			if err != nil {
				return failed(err, true, history.Null())
			}
			return okResult(history.List(evs...))
		}).typ == history.OK
	})
}

func (w *watchWorkload) awaitWatchers(ctx context.Context, final int64) {
	for _, wt := range w.ws {
		for {
			wt.mu.Lock()
			done := wt.next > final || wt.err != nil
			wt.mu.Unlock()
			if done {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// recordWatchers completes every watcher's operation with the events it saw: ok, or
// info if its watch ended definitely (compaction) and the list may be partial.
func (w *watchWorkload) recordWatchers(e *env) {
	for _, wt := range w.ws {
		wt.mu.Lock()
		typ := history.OK
		if wt.err != nil {
			typ = history.Info
		}
		e.rec.complete(wt.process, typ, history.List(wt.events...), errExtra(wt.err))
		wt.mu.Unlock()
	}
}

// replay watches the prefix from revision 1 until it has every event up to final.
func replay(ctx context.Context, cli *clientv3.Client, final int64) ([]history.Value, error) {
	var evs []history.Value
	if final <= 1 {
		return evs, nil
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for resp := range cli.Watch(wctx, watchPrefix, clientv3.WithPrefix(), clientv3.WithRev(1), clientv3.WithPrevKV()) {
		if err := resp.Err(); err != nil {
			return nil, err
		}
		for _, ev := range resp.Events {
			if ev.Kv.ModRevision > final {
				return evs, nil
			}
			evs = append(evs, watchEvent(ev))
		}
		if n := len(resp.Events); n > 0 && resp.Events[n-1].Kv.ModRevision >= final {
			return evs, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return nil, errors.New("replay watch closed early")
}

func (w *watchWorkload) check(events []history.Event, _ checker.Options) (verdictReport, error) {
	res, err := CheckWatch(events)
	if err != nil {
		return verdictReport{}, err
	}
	rep := verdictReport{valid: res.Valid, details: map[string]any{
		"committed": res.Committed, "watchers": res.Watchers, "lagging": res.Lagging, "problems": res.Problems,
		"reads": res.Reads, "read_checks": res.ReadChecks,
	}}
	switch res.Valid {
	case Valid:
		rep.summary = fmt.Sprintf("%d watchers saw all %d committed events in order, each stream's PrevKVs and versions replay, %d reads match the replays (%d checks)",
			res.Watchers, res.Committed, res.Reads, res.ReadChecks)
	case Invalid:
		rep.summary = fmt.Sprintf("watch broken: %s", res.Problems[0])
	default:
		rep.summary = "unknown: " + res.Reason
	}
	return rep, nil
}
