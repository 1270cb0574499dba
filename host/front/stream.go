package front

import (
	"context"

	"github.com/orrery/orrery/host/metrics"
	"github.com/orrery/orrery/node/rsm"
)

// Stream is a stream the server opened for a call (rsm.Request.Stream): its pushes, in
// order, until it is closed here, or dropped because its reader fell behind, or the
// server stopped.
type Stream struct {
	f   *Caller
	id  uint64
	raw chan []byte // closed when the stream ends
}

// Open opens a stream with req and returns it with the answer's result (which may still
// refuse the stream: then Close it). On an error nothing stays open.
func (f *Caller) Open(ctx context.Context, req rsm.Request) (*Stream, []byte, error) {
	req.Stream = true
	raw := make(chan []byte, streamBuffer)
	id, b, err := f.call(ctx, req, 0, raw)
	s := &Stream{f: f, id: id, raw: raw}
	if err != nil {
		if id != 0 {
			s.Close()
		}
		return nil, nil, err
	}
	return s, b, nil
}

// Pushes carries the stream's pushes; it is closed when the stream ends.
func (s *Stream) Pushes() <-chan []byte { return s.raw }

// Ask runs a request that concerns the open stream (a progress request: rsm.Call's Of)
// and waits for its answer, whose result it drops: what it asks for arrives on the stream.
func (s *Stream) Ask(ctx context.Context, req rsm.Request) error {
	req.Stream = true
	_, _, err := s.f.call(ctx, req, s.id, nil)
	return err
}

// Close forgets the stream here and closes it on the server.
func (s *Stream) Close() {
	f := s.f
	f.mu.Lock()
	if ch := f.streams[s.id]; ch != nil {
		close(ch)
		delete(f.streams, s.id)
	}
	metrics.SetWatchStreams(len(f.streams))
	f.mu.Unlock()
	f.server(rsm.Abandon{ID: s.id})
}

// Relay decodes the stream's pushes onto the channel it returns until the stream ends, a
// push does not decode, or ctx ends; it then closes the channel and the stream. The
// caller's StreamOf finds the stream by the channel meanwhile.
func Relay[T any](ctx context.Context, s *Stream, decode func([]byte) (T, error)) <-chan T {
	out := make(chan T, 16)
	key := (<-chan T)(out)
	f := s.f
	f.mu.Lock()
	f.relays[key] = s
	f.mu.Unlock()
	go func() {
		defer close(out)
		defer s.Close()
		defer func() {
			f.mu.Lock()
			delete(f.relays, key)
			f.mu.Unlock()
		}()
		for {
			select {
			case data, ok := <-s.raw:
				if !ok {
					return
				}
				v, err := decode(data)
				if err != nil {
					f.log.Error("bad stream push", "err", err)
					return
				}
				select {
				case out <- v:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return key
}

// StreamOf returns the stream that Relay relays onto ch (a channel Relay returned).
func (f *Caller) StreamOf(ch any) (*Stream, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.relays[ch]
	return s, ok
}
