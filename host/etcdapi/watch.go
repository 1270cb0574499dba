package etcdapi

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/orrery/orrery/node/kv"
)

// The watch stream. A gRPC stream multiplexes many watches; each is one Backend.Watch
// with its own forwarding goroutine, and one goroutine sends everything, in the order it
// was queued: a watch's created response is queued before its forwarder starts, so it
// precedes the watch's events.

// invalidWatchID is clientv3.InvalidWatchID: refused creations and stream-wide progress
// notifications carry it.
const invalidWatchID = -1

// errWatchBroken ends a gRPC watch stream whose member lost a watch; clientv3 reconnects
// and resumes its watches from the revisions they reached.
var errWatchBroken = status.Error(codes.Unavailable, "etcdserver: watch stream broken, reconnect")

// definiteWatchErrors are the Backend.Watch refusals that cancel one watch (reported in
// the created response) rather than break the stream.
var definiteWatchErrors = []error{kv.ErrEmptyWatcherRange, kv.ErrWatcherDuplicateID, kv.ErrEmptyKey,
	kv.ErrCompacted, kv.ErrFutureRev, kv.ErrMalformed}

type watchServer struct {
	pb.UnimplementedWatchServer
	s *Server
}

// watchStream is one client's gRPC watch stream.
type watchStream struct {
	s      *Server
	stream pb.Watch_WatchServer
	ctx    context.Context
	out    chan *pb.WatchResponse
	errc   chan error
	wg     sync.WaitGroup // the send loop and the forwarders

	mu       sync.Mutex
	closed   bool // no more forwarders may start
	watches  map[int64]*watch
	nextID   int64
	progress *progressAll // a stream-wide progress request in flight
}

// watch is one watch of a stream.
type watch struct {
	id       int64
	ctx      context.Context
	cancel   context.CancelFunc
	ch       <-chan kv.WatchResponse
	done     chan struct{} // closed when the forwarder returns
	fragment bool
	notify   bool // progress_notify

	// guarded by watchStream.mu
	active bool  // events sent since the last progress tick
	rev    int64 // the highest header revision seen
}

// progressAll collects the watches' answers to a progress request; once all answered,
// the stream gets one notification at the lowest revision they reported.
type progressAll struct {
	waiting map[int64]bool
	rev     int64
}

func (ws *watchServer) Watch(stream pb.Watch_WatchServer) error {
	ctx, cancel := context.WithCancel(stream.Context())
	w := &watchStream{
		s: ws.s, stream: stream, ctx: ctx,
		out:     make(chan *pb.WatchResponse, 16),
		errc:    make(chan error, 1),
		watches: map[int64]*watch{},
	}
	w.wg.Add(1)
	go w.sendLoop()
	go w.recvLoop()
	go w.progressLoop()
	var err error
	select {
	case err = <-w.errc:
	case <-ctx.Done():
		err = ctx.Err()
	case <-ws.s.stop:
		err = toGRPC(ErrStopped)
	}
	cancel()
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.wg.Wait()
	if errors.Is(err, context.Canceled) {
		err = rpctypes.ErrGRPCWatchCanceled
	}
	return err
}

// fail ends the stream with err (the first failure wins).
func (w *watchStream) fail(err error) {
	select {
	case w.errc <- err:
	default:
	}
}

func (w *watchStream) sendLoop() {
	defer w.wg.Done()
	for {
		select {
		case resp := <-w.out:
			if err := w.stream.Send(resp); err != nil {
				w.fail(err)
				return
			}
		case <-w.ctx.Done():
			return
		}
	}
}

// queue hands resp to the send loop; false if the stream (or ctx) ended first.
func (w *watchStream) queue(ctx context.Context, resp *pb.WatchResponse) bool {
	select {
	case w.out <- resp:
		return true
	case <-ctx.Done():
		return false
	}
}

func (w *watchStream) recvLoop() {
	for {
		req, err := w.stream.Recv()
		if err != nil {
			if w.ctx.Err() == nil && status.Code(err) != codes.Canceled {
				w.fail(err)
			}
			return // io.EOF: the client sends no more; its watches go on
		}
		switch {
		case req.GetCreateRequest() != nil:
			w.create(req.GetCreateRequest())
		case req.GetCancelRequest() != nil:
			w.cancelWatch(req.GetCancelRequest().WatchId)
		case req.GetProgressRequest() != nil:
			w.requestProgressAll()
		}
		if w.ctx.Err() != nil {
			return
		}
	}
}

// refuse answers a create request that made no watch.
func (w *watchStream) refuse(rev int64, reason string) {
	w.queue(w.ctx, &pb.WatchResponse{Header: w.s.header(rev), WatchId: invalidWatchID,
		Created: true, Canceled: true, CancelReason: reason})
}

func (w *watchStream) create(cr *pb.WatchCreateRequest) {
	key := cr.Key
	if len(key) == 0 {
		key = []byte{0} // the smallest key
	}
	if cr.StartRevision < 0 {
		w.refuse(0, rpctypes.ErrCompacted.Error())
		return
	}
	id, ok := w.reserve(cr.WatchId)
	if !ok {
		w.refuse(0, kv.ErrWatcherDuplicateID.Error())
		return
	}
	// The created response's revision is where a "from now" watch starts (clientv3
	// resumes such a watch there), so the server fixes it: the member's revision now.
	a, err := w.s.query(w.ctx, kv.Query{Range: &kv.RangeRequest{Key: key, CountOnly: true, Serializable: true}}, true)
	if err != nil || a.Range == nil {
		w.release(id)
		w.fail(errOr(err, errBadAnswer))
		return
	}
	rev := a.Range.Header.Revision
	req := kv.WatchRequest{Key: key, RangeEnd: cr.RangeEnd, StartRevision: cr.StartRevision, PrevKV: cr.PrevKv}
	if req.StartRevision == 0 {
		req.StartRevision = rev + 1
	}
	for _, f := range cr.Filters {
		req.NoPut = req.NoPut || f == pb.WatchCreateRequest_NOPUT
		req.NoDelete = req.NoDelete || f == pb.WatchCreateRequest_NODELETE
	}
	wt := &watch{id: id, fragment: cr.Fragment, notify: cr.ProgressNotify, rev: rev, done: make(chan struct{})}
	wt.ctx, wt.cancel = context.WithCancel(w.ctx)
	ch, err := w.s.b.Watch(wt.ctx, req)
	if err != nil {
		wt.cancel()
		w.release(id)
		if isOneOf(err, definiteWatchErrors) {
			w.refuse(rev, err.Error())
			return
		}
		w.fail(toGRPC(err))
		return
	}
	wt.ch = ch
	w.mu.Lock()
	w.watches[id] = wt
	w.mu.Unlock()
	if !w.queue(w.ctx, &pb.WatchResponse{Header: w.s.header(rev), WatchId: id, Created: true}) {
		wt.cancel()
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		wt.cancel()
		return
	}
	w.wg.Add(1)
	go w.forward(wt)
}

func errOr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

func isOneOf(err error, errs []error) bool {
	for _, e := range errs {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// reserve claims a watch ID: the client's, or the lowest free one counting up from the
// last chosen (etcd's AutoWatchID). A reserved ID maps to nil until the watch exists.
func (w *watchStream) reserve(want int64) (int64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if want != 0 {
		if _, taken := w.watches[want]; taken {
			return 0, false
		}
		w.watches[want] = nil
		return want, true
	}
	for {
		if _, taken := w.watches[w.nextID]; !taken {
			break
		}
		w.nextID++
	}
	id := w.nextID
	w.nextID++
	w.watches[id] = nil
	return id, true
}

func (w *watchStream) release(id int64) {
	w.mu.Lock()
	delete(w.watches, id)
	w.mu.Unlock()
}

// forward passes one watch's responses to the send loop until the watch ends.
func (w *watchStream) forward(wt *watch) {
	defer w.wg.Done()
	defer close(wt.done)
	for {
		select {
		case resp, ok := <-wt.ch:
			if !ok {
				if wt.ctx.Err() == nil {
					w.fail(errWatchBroken)
				}
				return
			}
			if !w.deliver(wt, resp) || resp.Canceled {
				w.remove(wt)
				return
			}
		case <-wt.ctx.Done():
			return
		}
	}
}

// deliver queues one backend response; false if the watch or stream ended.
func (w *watchStream) deliver(wt *watch, resp kv.WatchResponse) bool {
	rev := resp.Header.Revision
	progress := len(resp.Events) == 0 && resp.CompactRevision == 0 && !resp.Canceled
	w.mu.Lock()
	wt.rev = max(wt.rev, rev)
	wt.active = wt.active || len(resp.Events) > 0
	if progress && w.progress != nil && w.progress.waiting[wt.id] {
		all := w.answered(wt.id, rev)
		w.mu.Unlock()
		return all == nil || w.queue(wt.ctx, all)
	}
	w.mu.Unlock()
	out := &pb.WatchResponse{
		Header:          w.s.header(rev),
		WatchId:         wt.id,
		Events:          eventsToPB(resp.Events),
		CompactRevision: resp.CompactRevision,
		Canceled:        resp.Canceled,
	}
	if !wt.fragment {
		return w.queue(wt.ctx, out)
	}
	for _, f := range fragments(out, w.s.opts.MaxRequestBytes+grpcOverheadBytes) {
		if !w.queue(wt.ctx, f) {
			return false
		}
	}
	return true
}

// remove forgets a watch that ended by itself (compacted).
func (w *watchStream) remove(wt *watch) {
	w.mu.Lock()
	var all *pb.WatchResponse
	if w.watches[wt.id] == wt {
		delete(w.watches, wt.id)
		all = w.answered(wt.id, math.MaxInt64)
	}
	w.mu.Unlock()
	wt.cancel()
	if all != nil {
		w.queue(w.ctx, all)
	}
}

// cancelWatch ends a watch at the client's request; an unknown ID gets no answer, as in
// etcd.
func (w *watchStream) cancelWatch(id int64) {
	w.mu.Lock()
	wt := w.watches[id]
	if wt == nil {
		w.mu.Unlock()
		return
	}
	delete(w.watches, id)
	all := w.answered(id, math.MaxInt64)
	rev := wt.rev
	w.mu.Unlock()
	wt.cancel()
	<-wt.done // its responses are queued before the cancellation
	if all != nil {
		w.queue(w.ctx, all)
	}
	w.queue(w.ctx, &pb.WatchResponse{Header: w.s.header(rev), WatchId: id, Canceled: true})
}

// requestProgressAll asks every watch of the stream for progress; the stream gets one
// notification (watch ID -1) once all have answered. Without a ProgressRequester, or
// without watches, nothing is sent (as etcd sends nothing while a watcher is unsynced).
func (w *watchStream) requestProgressAll() {
	pr, ok := w.s.b.(ProgressRequester)
	if !ok {
		return
	}
	w.mu.Lock()
	var targets []*watch
	for _, wt := range w.watches {
		if wt != nil {
			targets = append(targets, wt)
		}
	}
	if len(targets) == 0 {
		w.mu.Unlock()
		return
	}
	if w.progress == nil {
		w.progress = &progressAll{waiting: map[int64]bool{}, rev: math.MaxInt64}
	}
	for _, wt := range targets {
		w.progress.waiting[wt.id] = true
	}
	w.mu.Unlock()
	for _, wt := range targets {
		if err := pr.RequestProgress(wt.ctx, wt.ch); err != nil && wt.ctx.Err() == nil {
			w.mu.Lock()
			w.progress = nil // this request cannot be answered truthfully
			w.mu.Unlock()
			return
		}
	}
}

// answered records watch id's progress at rev and returns the stream-wide notification if
// it was the last one awaited. Called with w.mu held.
func (w *watchStream) answered(id, rev int64) *pb.WatchResponse {
	p := w.progress
	if p == nil || !p.waiting[id] {
		return nil
	}
	delete(p.waiting, id)
	p.rev = min(p.rev, rev)
	if len(p.waiting) > 0 {
		return nil
	}
	w.progress = nil
	if p.rev == math.MaxInt64 {
		return nil // every watch awaited ended first
	}
	return &pb.WatchResponse{Header: w.s.header(p.rev), WatchId: invalidWatchID}
}

// progressLoop asks idle progress_notify watches for a notification every interval.
func (w *watchStream) progressLoop() {
	pr, ok := w.s.b.(ProgressRequester)
	if !ok {
		return
	}
	t := time.NewTicker(w.s.opts.ProgressNotifyInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			for _, wt := range w.idle() {
				_ = pr.RequestProgress(wt.ctx, wt.ch) // a watch that ended needs none
			}
		case <-w.ctx.Done():
			return
		}
	}
}

// idle returns the progress_notify watches that sent no events since the last call.
func (w *watchStream) idle() []*watch {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*watch
	for _, wt := range w.watches {
		if wt == nil || !wt.notify {
			continue
		}
		if !wt.active {
			out = append(out, wt)
		}
		wt.active = false
	}
	return out
}

// fragments splits a response whose encoding reaches limit into responses with Fragment
// set on all but the last (etcd's sendFragments); a single event is never split.
func fragments(wr *pb.WatchResponse, limit int) []*pb.WatchResponse {
	if proto.Size(wr) < limit || len(wr.Events) < 2 {
		return []*pb.WatchResponse{wr}
	}
	var out []*pb.WatchResponse
	evs := wr.Events
	for len(evs) > 0 {
		cur := &pb.WatchResponse{Header: wr.Header, WatchId: wr.WatchId, Created: wr.Created,
			Canceled: wr.Canceled, CompactRevision: wr.CompactRevision, CancelReason: wr.CancelReason,
			Fragment: true}
		n := 0
		for n < len(evs) {
			cur.Events = evs[:n+1]
			if n > 0 && proto.Size(cur) >= limit {
				break
			}
			n++
		}
		cur.Events = evs[:n]
		evs = evs[n:]
		out = append(out, cur)
	}
	out[len(out)-1].Fragment = false
	return out
}
