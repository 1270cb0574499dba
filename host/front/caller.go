package front

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/orrery/orrery/host/driver"
	"github.com/orrery/orrery/host/metrics"
	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/rsm"
)

// ErrStopped is returned for calls to a server that has stopped.
var ErrStopped = errors.New("member stopped")

// ErrNoLeader: no leader is known, or the leader did not answer in time. It is definite:
// the request was never sent anywhere.
var ErrNoLeader = errors.New("etcdserver: no leader")

// Loop is the driver that runs the server (host/driver's Driver).
type Loop interface {
	Input(in c.Input) bool
	InputFunc(f func() c.Input) bool
	Done() <-chan struct{}
}

// streamBuffer is how many pushes a stream holds for its reader before it is dropped.
const streamBuffer = 1024

// Caller calls a server's front from any goroutine. Build it with New, and give its Local
// to the driver as Config.Local.
type Caller struct {
	loop Loop
	log  *slog.Logger

	last    uint64 // owned by the loop goroutine
	mu      sync.Mutex
	calls   map[uint64]chan rsm.Answer
	streams map[uint64]chan []byte
	relays  map[any]*Stream // Relay's channels -> their streams
}

// New returns a caller of the server loop runs.
func New(loop Loop, log *slog.Logger) *Caller {
	return &Caller{loop: loop, log: log, calls: map[uint64]chan rsm.Answer{},
		streams: map[uint64]chan []byte{}, relays: map[any]*Stream{}}
}

// Local hands an answer or a push to the caller waiting here; it is the driver's
// Config.Local and runs on the loop goroutine.
func (f *Caller) Local(msg c.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch msg := msg.(type) {
	case rsm.Answer:
		if ch := f.calls[msg.ID]; ch != nil {
			delete(f.calls, msg.ID)
			ch <- msg
		}
	case rsm.Pushed:
		ch := f.streams[msg.Stream]
		if ch == nil {
			return
		}
		select {
		case ch <- msg.Data:
		default:
			// A reader that does not keep up loses its stream (etcd cancels slow
			// watchers too); the API layer reopens it from its last revision.
			close(ch)
			delete(f.streams, msg.Stream)
			f.server(rsm.Abandon{ID: msg.Stream})
		}
	}
}

// server hands a caller's message to the server, as from driver.Local.
func (f *Caller) server(msg c.Message) bool {
	return f.loop.Input(c.Receive{From: driver.Local, Msg: msg})
}

// Call runs one request through the server and waits for its answer's result. An error
// means the request was never sent (ErrNoLeader, ErrStopped) or its outcome is unknown
// (the context's error).
func (f *Caller) Call(ctx context.Context, req rsm.Request) ([]byte, error) {
	_, b, err := f.call(ctx, req, 0, nil)
	return b, err
}

// call runs a call. stream, if set, is registered under the call's ID before the server
// can push to it. When ctx ends first, the call is abandoned: the answer then says whether
// it never left (no leader) or its outcome is unknown.
func (f *Caller) call(ctx context.Context, req rsm.Request, of uint64, stream chan []byte) (uint64, []byte, error) {
	ch := make(chan rsm.Answer, 1)
	idc := make(chan uint64, 1)
	if !f.loop.InputFunc(func() c.Input {
		f.last++
		id := f.last
		f.mu.Lock()
		f.calls[id] = ch
		if stream != nil {
			f.streams[id] = stream
			metrics.SetWatchStreams(len(f.streams))
		}
		f.mu.Unlock()
		idc <- id
		return c.Receive{From: driver.Local, Msg: rsm.Call{ID: id, Of: of, Req: req}}
	}) {
		return 0, nil, ErrStopped
	}
	var id uint64
	select {
	case id = <-idc:
	case <-f.loop.Done():
		return 0, nil, ErrStopped
	}
	select {
	case a := <-ch:
		return id, a.Result, a.Err
	case <-ctx.Done():
	case <-f.loop.Done():
		return id, nil, ErrStopped
	}
	f.server(rsm.Abandon{ID: id})
	select {
	case a := <-ch:
		if errors.Is(a.Err, rsm.ErrNoLeader) {
			return id, nil, ErrNoLeader
		}
		if a.Err == nil {
			return id, a.Result, nil
		}
	case <-f.loop.Done():
		return id, nil, ErrStopped
	}
	return id, nil, ctx.Err()
}

// Close closes every stream; call it once the loop has exited.
func (f *Caller) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, ch := range f.streams {
		close(ch)
		delete(f.streams, id)
	}
}
