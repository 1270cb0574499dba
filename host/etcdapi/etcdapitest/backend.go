// Package etcdapitest is an etcdapi.Backend for tests: one kvserver.App driven directly,
// without raft, a disk or a network. Every command is "committed" the moment Write applies
// it, under one mutex; queries read the same App; watches read its store's WatchHub.
// Leases expire on the wall clock: a goroutine asks the App what is due every Tick.
//
// It is the reference for what a real driver must do behind etcdapi.Backend, and a fake
// for tests of programs that talk to an etcd API:
//
//	b := etcdapitest.New(etcdapitest.Config{})
//	defer b.Close()
//	srv := etcdapi.NewServer(b, etcdapi.Options{})
//	go srv.Serve(lis)
package etcdapitest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orrery/orrery/host/etcdapi"
	"github.com/orrery/orrery/node/kv"
	"github.com/orrery/orrery/node/kvserver"
)

// Defaults for Config fields left zero.
const (
	DefaultTick      = 20 * time.Millisecond
	DefaultMemberID  = 0x8e9e05c52164694d // etcd's default single member's ID
	DefaultClusterID = 0xcdf818194e3a8c32 // and its cluster's
	watchBuffer      = 1024               // responses a watch may lag before it is dropped
)

// Config configures a Backend.
type Config struct {
	KV         kv.Config     // the store's configuration (MinLeaseTTL 1 makes expiry tests fast)
	Tick       time.Duration // how often lease expiry is checked (0: DefaultTick)
	MemberID   uint64        // 0: DefaultMemberID
	ClusterID  uint64        // 0: DefaultClusterID
	Name       string        // the member's name ("" : "default", like etcd's)
	ClientURLs []string      // what MemberList reports (set it to the server's address)
}

// Backend is a single-member etcdapi.Backend over a kvserver.App. It is safe for
// concurrent use. It implements etcdapi.ProgressRequester and etcdapi.Snapshotter.
type Backend struct {
	cfg    Config
	start  time.Time
	leader atomic.Bool
	stop   chan struct{}
	done   chan struct{}

	mu      sync.Mutex
	app     *kvserver.App
	index   uint64             // entries applied (the "raft index")
	watches map[int64]*watcher // by WatchHub ID
	byChan  map[<-chan kv.WatchResponse]int64
}

type watcher struct {
	ch chan kv.WatchResponse
}

// ErrClosed is returned by every method after Close.
var ErrClosed = fmt.Errorf("etcdapitest: closed: %w", etcdapi.ErrStopped)

// New returns a running Backend; Close stops it.
func New(cfg Config) *Backend {
	if cfg.Tick <= 0 {
		cfg.Tick = DefaultTick
	}
	if cfg.MemberID == 0 {
		cfg.MemberID = DefaultMemberID
	}
	if cfg.ClusterID == 0 {
		cfg.ClusterID = DefaultClusterID
	}
	if cfg.Name == "" {
		cfg.Name = "default"
	}
	b := &Backend{
		cfg: cfg, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{}),
		app: kvserver.New(cfg.KV), watches: map[int64]*watcher{}, byChan: map[<-chan kv.WatchResponse]int64{},
	}
	b.app.Now(0)
	b.app.Lead(true) // the only member leads: its Lessor is primary
	b.leader.Store(true)
	go b.expire()
	return b
}

// Close stops lease expiry and closes every watch.
func (b *Backend) Close() {
	select {
	case <-b.stop:
		return
	default:
	}
	close(b.stop)
	<-b.done
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, w := range b.watches {
		b.drop(id, w)
	}
}

// SetLeader makes the member believe it has a leader (true, the default) or not, for
// tests of requests that require one. Reads and writes still work.
func (b *Backend) SetLeader(ok bool) { b.leader.Store(ok) }

// lock takes the mutex and brings the App's clock to now; false after Close.
func (b *Backend) lock() bool {
	b.mu.Lock()
	select {
	case <-b.stop:
		b.mu.Unlock()
		return false
	default:
	}
	b.app.Now(time.Since(b.start))
	return true
}

// expire applies the lease expiries the App finds due, every Tick.
func (b *Backend) expire() {
	defer close(b.done)
	t := time.NewTicker(b.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-b.stop:
			return
		}
		if !b.lock() {
			return
		}
		for _, cmd := range b.app.Due() {
			b.app.Apply(cmd)
			b.index++
		}
		b.flush()
		b.mu.Unlock()
	}
}

// Header implements etcdapi.Backend.
func (b *Backend) Header() etcdapi.Header {
	h := etcdapi.Header{ClusterID: b.cfg.ClusterID, MemberID: b.cfg.MemberID, RaftTerm: 1}
	if b.leader.Load() {
		h.Leader = b.cfg.MemberID
	}
	return h
}

// Write implements etcdapi.Backend: the command is applied at once.
func (b *Backend) Write(ctx context.Context, cmd kv.Command) (kv.Reply, error) {
	if err := ctx.Err(); err != nil {
		return kv.Reply{}, err
	}
	if !b.lock() {
		return kv.Reply{}, ErrClosed
	}
	defer b.mu.Unlock()
	out := b.app.Apply(cmd.Encode())
	b.index++
	b.flush()
	return kv.DecodeReply(out)
}

// Query implements etcdapi.Backend. With one member every read is linearizable.
func (b *Backend) Query(ctx context.Context, q kv.Query, serializable bool) (kv.Answer, error) {
	if err := ctx.Err(); err != nil {
		return kv.Answer{}, err
	}
	if !b.lock() {
		return kv.Answer{}, ErrClosed
	}
	defer b.mu.Unlock()
	var out []byte
	if serializable {
		out = b.app.Local(q.Encode(), true)
	} else {
		out = b.app.Read(q.Encode())
	}
	return kv.DecodeAnswer(out)
}

// Watch implements etcdapi.Backend on the store's WatchHub. (kvserver's Subscribe/Outbox
// protocol has one watch per client, no cancel and no progress request, so the fake
// drives the hub itself.)
func (b *Backend) Watch(ctx context.Context, req kv.WatchRequest) (<-chan kv.WatchResponse, error) {
	if !b.lock() {
		return nil, ErrClosed
	}
	defer b.mu.Unlock()
	id, err := b.app.Store().Watches().Watch(req)
	if err != nil {
		return nil, err
	}
	w := &watcher{ch: make(chan kv.WatchResponse, watchBuffer)}
	b.watches[id] = w
	b.byChan[w.ch] = id
	b.flush() // a watch from the past replays at once
	go func() {
		select {
		case <-ctx.Done():
		case <-b.stop:
			return // Close drops it
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.watches[id] == w {
			_ = b.app.Store().Watches().Cancel(id)
			b.drop(id, w)
		}
	}()
	return w.ch, nil
}

// drop forgets a watch and closes its channel. Called with b.mu held.
func (b *Backend) drop(id int64, w *watcher) {
	delete(b.watches, id)
	delete(b.byChan, w.ch)
	close(w.ch)
}

// flush delivers what the hub owes. A watch that cannot take more is dropped: its channel
// closes, which the server reports as a broken stream. Called with b.mu held.
func (b *Backend) flush() {
	for _, resp := range b.app.Store().Watches().Take() {
		w := b.watches[resp.WatchID]
		if w == nil {
			continue
		}
		select {
		case w.ch <- resp:
		default:
			_ = b.app.Store().Watches().Cancel(resp.WatchID)
			b.drop(resp.WatchID, w)
			continue
		}
		if resp.Canceled { // compacted: the hub removed it
			b.drop(resp.WatchID, w)
		}
	}
}

// errNoWatch is RequestProgress's answer for a channel it did not hand out or closed.
var errNoWatch = errors.New("etcdapitest: no such watch")

// RequestProgress implements etcdapi.ProgressRequester.
func (b *Backend) RequestProgress(_ context.Context, ch <-chan kv.WatchResponse) error {
	if !b.lock() {
		return ErrClosed
	}
	defer b.mu.Unlock()
	id, ok := b.byChan[ch]
	if !ok {
		return errNoWatch
	}
	if err := b.app.Store().Watches().RequestProgress(id); err != nil {
		return err
	}
	b.flush()
	return nil
}

// Status implements etcdapi.Backend.
func (b *Backend) Status(context.Context) (etcdapi.Status, error) {
	if !b.lock() {
		return etcdapi.Status{}, ErrClosed
	}
	defer b.mu.Unlock()
	return etcdapi.Status{
		Header:           b.Header(),
		RaftIndex:        b.index,
		RaftAppliedIndex: b.index,
		Revision:         b.app.Store().Rev(),
		DBSize:           int64(len(b.app.Snapshot())),
	}, nil
}

// Members implements etcdapi.Backend: the one member.
func (b *Backend) Members(context.Context) ([]etcdapi.Member, error) {
	return []etcdapi.Member{{ID: b.cfg.MemberID, Name: b.cfg.Name, PeerURLs: []string{"http://localhost:2380"},
		ClientURLs: b.cfg.ClientURLs}}, nil
}

// Snapshot implements etcdapi.Snapshotter: the store's snapshot bytes.
func (b *Backend) Snapshot(context.Context) (io.ReadCloser, error) {
	if !b.lock() {
		return nil, ErrClosed
	}
	defer b.mu.Unlock()
	return snapshot{bytes.NewReader(b.app.Snapshot())}, nil
}

// snapshot is a byte reader with Size (the server reports remaining bytes) and Close.
type snapshot struct{ *bytes.Reader }

func (snapshot) Close() error { return nil }
