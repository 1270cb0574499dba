package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// watchPrefix is where the watch workload writes; its watchers watch the whole prefix.
const watchPrefix = "bench-watch/"

// watch runs the fan-out workload: Watchers watchers on one prefix (spread over the
// connections), one writer. Each value starts with the put's send time, so a watcher's
// latency is its receipt time minus the send time (one process, one clock).
func (r *runner) watch(ctx context.Context) (Result, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var t tally
	var wg sync.WaitGroup
	puts := r.cfg.Total
	fin := &finish{done: make(chan struct{})}
	ready := make(chan error, r.cfg.Watchers)
	for w := range r.cfg.Watchers {
		c := r.conns[w%len(r.conns)]
		ch := c.Watch(wctx, watchPrefix, clientv3.WithPrefix(), clientv3.WithCreatedNotify())
		wg.Go(func() { r.watcher(ch, ready, fin, &t) })
	}
	for range r.cfg.Watchers {
		if err := <-ready; err != nil {
			cancel()
			wg.Wait()
			return Result{}, err
		}
	}
	start := time.Now()
	writerPuts, werr := r.writer(ctx, puts)
	elapsed := time.Since(start)
	fin.puts = writerPuts
	close(fin.done)
	wg.Wait()
	res := t.result(elapsed)
	res.Ops, res.OpsPerSec = writerPuts, float64(writerPuts)/elapsed.Seconds()
	if werr != nil && res.FirstError == "" {
		res.FirstError = werr.Error()
	}
	if werr != nil {
		res.Errors++
	}
	return res, ctx.Err()
}

// writer puts to the prefix at cfg.Rate (or back to back) until it has made puts puts
// (or, with puts 0, until the duration is up), returning the number that succeeded.
func (r *runner) writer(ctx context.Context, puts int) (int, error) {
	c := r.conns[0]
	buf := make([]byte, max(8, r.cfg.ValueSize))
	copy(buf, r.value)
	var tick *time.Ticker
	if r.cfg.Rate > 0 {
		tick = time.NewTicker(time.Duration(float64(time.Second) / r.cfg.Rate))
		defer tick.Stop()
	}
	deadline := time.Now().Add(r.cfg.Duration)
	n := 0
	var first error
	for i := 0; ctx.Err() == nil; i++ {
		if puts > 0 && i >= puts || puts <= 0 && time.Now().After(deadline) {
			break
		}
		if tick != nil {
			<-tick.C
		}
		binary.BigEndian.PutUint64(buf, uint64(time.Now().UnixNano()))
		pctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
		_, err := c.Put(pctx, fmt.Sprintf("%s%08d", watchPrefix, i%r.cfg.Keys), string(buf))
		cancel()
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		n++
	}
	return n, first
}

// finish tells the watchers how many puts the writer made, once done is closed.
type finish struct {
	done chan struct{}
	puts int
}

// watcher waits for its watch to be created, then records the latency of every event
// until it has seen as many as the writer made (or a grace period after the writer
// stopped).
func (r *runner) watcher(ch clientv3.WatchChan, ready chan<- error, fin *finish, t *tally) {
	first, ok := <-ch
	switch {
	case !ok:
		ready <- fmt.Errorf("bench: watch closed before it was created")
		return
	case first.Err() != nil:
		ready <- fmt.Errorf("bench: watch: %w", first.Err())
		return
	}
	ready <- nil
	var samples []time.Duration
	seen, want := 0, -1
	var grace <-chan time.Time
	done := fin.done
	for want < 0 || seen < want {
		select {
		case resp, ok := <-ch:
			if !ok || resp.Err() != nil {
				t.add(samples, 0, 1, fmt.Errorf("bench: watch ended: %v", resp.Err()))
				return
			}
			now := time.Now()
			for _, ev := range resp.Events {
				if len(ev.Kv.Value) >= 8 {
					sent := int64(binary.BigEndian.Uint64(ev.Kv.Value))
					samples = append(samples, now.Sub(time.Unix(0, sent)))
				}
				seen++
			}
		case <-done:
			done = nil
			want = fin.puts
			grace = time.After(10 * time.Second)
		case <-grace:
			t.add(samples, 0, 1, fmt.Errorf("bench: watcher saw %d of %d events", seen, want))
			return
		}
	}
	t.add(samples, 0, 0, nil)
}
