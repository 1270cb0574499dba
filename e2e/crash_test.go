package e2e

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// writers put unique values to distinct keys ("crash/<writer>/<op>") from several
// goroutines, each op with its own timeout, and record the ones acknowledged. A failed
// put's outcome is unknown, so it is neither recorded nor retried.
type writers struct {
	mu    sync.Mutex
	acked map[string]string
	n     atomic.Int64 // acknowledged so far
	fails atomic.Int64
	stop  chan struct{}
	wg    sync.WaitGroup
}

func startWriters(ctx context.Context, cli *clientv3.Client, n int) *writers {
	w := &writers{acked: map[string]string{}, stop: make(chan struct{})}
	for g := range n {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for op := 0; ; op++ {
				select {
				case <-w.stop:
					return
				case <-ctx.Done():
					return
				default:
				}
				k, v := fmt.Sprintf("crash/%d/%06d", g, op), fmt.Sprintf("v%d-%d", g, op)
				opCtx, cancel := context.WithTimeout(ctx, time.Second)
				_, err := cli.Put(opCtx, k, v)
				cancel()
				if err != nil {
					w.fails.Add(1)
					continue
				}
				w.mu.Lock()
				w.acked[k] = v
				w.mu.Unlock()
				w.n.Add(1)
			}
		}()
	}
	return w
}

// progress waits until more writes than now have been acknowledged: the cluster serves.
func (w *writers) progress(t *testing.T, more int64, what string) {
	t.Helper()
	target := w.n.Load() + more
	require.Eventually(t, func() bool { return w.n.Load() >= target }, settle, 10*time.Millisecond,
		"writes stalled %s (%d acknowledged, %d failed)", what, w.n.Load(), w.fails.Load())
}

func (w *writers) halt() map[string]string {
	close(w.stop)
	w.wg.Wait()
	return w.acked
}

// TestCrashRecovery runs three `orrery node` processes under concurrent writers, kills a
// follower with SIGKILL and restarts it, then kills the leader and restarts it. Every
// acknowledged write must then be readable with its value, and all members must report
// the same HashKV at the same revision once they have caught up.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes; skipped with -short")
	}
	pc := newProcCluster(t, 3)
	ctx := testCtx(t, 3*testTimeout)
	admin := newClient(t, pc.clients)
	for i := range pc.clients {
		pc.waitServing(ctx, admin, i)
	}
	w := startWriters(ctx, newClient(t, pc.clients), 4)
	defer func() {
		select {
		case <-w.stop:
		default:
			w.halt()
		}
	}()
	w.progress(t, 50, "at the start")

	lead := pc.leader(ctx, admin)
	follower := (lead + 1) % 3
	t.Logf("killing follower %s", pc.names[follower])
	pc.kill(follower)
	w.progress(t, 50, "with a follower down")
	pc.start(follower)
	pc.waitServing(ctx, admin, follower)
	w.progress(t, 50, "after the follower's restart")

	lead = pc.leader(ctx, admin)
	t.Logf("killing leader %s", pc.names[lead])
	pc.kill(lead)
	w.progress(t, 50, "with the leader down")
	pc.start(lead)
	pc.waitServing(ctx, admin, lead)
	w.progress(t, 50, "after the leader's restart")
	acked := w.halt()
	t.Logf("%d writes acknowledged, %d failed or timed out", len(acked), w.fails.Load())

	resp, err := admin.Get(ctx, "crash/", clientv3.WithPrefix())
	require.NoError(t, err)
	got := map[string]string{}
	for _, kv := range resp.Kvs {
		got[string(kv.Key)] = string(kv.Value)
	}
	lost := 0
	for k, v := range acked {
		if got[k] != v {
			lost++
			if lost <= 10 {
				t.Errorf("acknowledged write %s=%s reads back as %q", k, v, got[k])
			}
		}
	}
	require.Zero(t, lost, "acknowledged writes lost or changed")

	// Every member catches up to the revision the read saw and hashes alike there.
	rev := resp.Header.Revision
	var hashes []uint32
	require.Eventually(t, func() bool {
		hashes = hashes[:0]
		for _, ep := range pc.clients {
			hctx, cancel := context.WithTimeout(ctx, time.Second)
			h, err := admin.HashKV(hctx, ep, rev)
			cancel()
			if err != nil { // a member behind rev answers "future revision"
				return false
			}
			hashes = append(hashes, h.Hash)
		}
		return true
	}, settle, 20*time.Millisecond, "members never reported HashKV at revision %d", rev)
	assert.Equal(t, []uint32{hashes[0], hashes[0], hashes[0]}, hashes, "HashKV at revision %d", rev)
}
