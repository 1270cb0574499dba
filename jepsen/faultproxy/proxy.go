// Package faultproxy is a userspace TCP proxy that delays, duplicates and reorders what
// flows through it, for peer links on a machine whose kernel has no netem qdisc (etcd's
// robustness suite uses a proxy of the same kind).
//
// One Proxy stands in front of one member's peer listener: peers dial the proxy, which dials
// the member and copies bytes both ways. Only the dialer-to-member direction is faulted;
// the reply direction is copied as is.
//
// Two ways to cut the stream into units:
//
//   - raw (any protocol, e.g. etcd's HTTP peer traffic): each read is one chunk. Chunks may
//     be delayed, but never reordered or duplicated, since the bytes have no boundaries the
//     receiver could survive a shuffle at.
//   - frames (Orrery's host/tcp): a frame is a uint32 big-endian body length, the
//     CRC-32C of the body and the body; the first frame on a connection is the hello. After
//     the hello, whole frames may be delayed, duplicated and reordered: each frame is a
//     self-contained raft message, and raft tolerates duplicates and reordering. A stream
//     that does not parse as frames is passed through raw from there on.
//
// Units go through a queue ordered by due time: Delay (plus up to Jitter) applies to every
// unit and keeps their order; Reorder gives a unit extra delay without holding back those
// behind it, so they overtake it; Duplicate sends a unit twice.
package faultproxy

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Faults is what a Proxy does to the units it forwards. The zero value forwards unchanged.
type Faults struct {
	Delay     time.Duration // added to every unit, order kept
	Jitter    time.Duration // up to this much more, order still kept
	Duplicate float64       // probability a frame is sent twice (frames only)
	Reorder   float64       // probability a frame is held back and overtaken (frames only)
	// ReorderBy is the extra delay of a reordered frame; default 20ms.
	ReorderBy time.Duration
}

// Zero reports whether f forwards unchanged.
func (f Faults) Zero() bool { return f == Faults{} }

// Dialer opens a connection to the member behind the proxy.
type Dialer func(ctx context.Context) (net.Conn, error)

// Proxy forwards the connections accepted on one listener to one upstream.
type Proxy struct {
	ln     net.Listener
	dial   Dialer
	frames bool
	log    *slog.Logger

	mu     sync.Mutex
	faults Faults
	rng    *rand.Rand
	conns  map[net.Conn]struct{}
	closed bool
	stats  Stats

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Stats counts what a Proxy did.
type Stats struct {
	Conns, Units, Delayed, Duplicated, Reordered uint64
}

// MaxFrame bounds a frame the proxy will buffer; a larger length switches the stream to raw.
const MaxFrame = 64 << 20

// New starts a proxy that accepts on ln and forwards to dial. frames selects Orrery's
// framing (see the package comment). Close stops it.
func New(ln net.Listener, dial Dialer, frames bool, seed uint64, log *slog.Logger) *Proxy {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		ln: ln, dial: dial, frames: frames, log: log,
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), conns: map[net.Conn]struct{}{},
		ctx: ctx, cancel: cancel,
	}
	p.wg.Add(1)
	go p.accept()
	return p
}

// Addr is the proxy's listening address.
func (p *Proxy) Addr() net.Addr { return p.ln.Addr() }

// Set changes the faults; units already queued keep their due times.
func (p *Proxy) Set(f Faults) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = f
}

// Faults returns the current faults.
func (p *Proxy) Faults() Faults {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults
}

// Stats returns the counters so far.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Close stops accepting, closes every proxied connection and waits for the goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.cancel()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				p.log.Warn("faultproxy: accept", "err", err)
			}
			return
		}
		if !p.track(c) {
			continue
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// serve proxies one connection: down is the dialer's side, up the member's.
func (p *Proxy) serve(down net.Conn) {
	defer p.wg.Done()
	defer p.untrack(down)
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	up, err := p.dial(ctx)
	cancel()
	if err != nil {
		return // the member is down: the dialer sees a closed connection and redials
	}
	if !p.track(up) {
		return
	}
	defer p.untrack(up)
	p.mu.Lock()
	p.stats.Conns++
	p.mu.Unlock()

	q := newQueue()
	done := make(chan struct{})
	go func() { // reply direction: plain copy; either side closing ends both
		io.Copy(down, up)
		down.Close()
		up.Close()
		q.close()
		close(done)
	}()
	writeErr := make(chan struct{})
	go func() {
		q.drain(up)
		up.Close()
		close(writeErr)
	}()
	if p.frames {
		p.readFrames(down, q)
	} else {
		p.readRaw(down, q, false)
	}
	q.finish() // write what is queued, then close
	<-writeErr
	down.Close()
	<-done
}

func (p *Proxy) readRaw(r io.Reader, q *queue, _ bool) {
	for {
		buf := make([]byte, 32<<10)
		n, err := r.Read(buf)
		if n > 0 {
			p.push(q, buf[:n], false)
		}
		if err != nil {
			return
		}
	}
}

func (p *Proxy) readFrames(r io.Reader, q *queue) {
	first := true
	for {
		var h [8]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				p.push(q, h[:], false) // pass the fragment on; the member reports it
			}
			return
		}
		n := binary.BigEndian.Uint32(h[:4])
		if n > MaxFrame {
			p.push(q, append([]byte(nil), h[:]...), false)
			p.readRaw(r, q, false)
			return
		}
		frame := make([]byte, 8+int(n))
		copy(frame, h[:])
		m, err := io.ReadFull(r, frame[8:])
		if err != nil {
			p.push(q, frame[:8+m], false)
			return
		}
		p.push(q, frame, !first)
		first = false
	}
}

// push queues one unit under the current faults; shuffle allows duplication and reordering.
func (p *Proxy) push(q *queue, b []byte, shuffle bool) {
	p.mu.Lock()
	f := p.faults
	now := time.Now()
	delay := f.Delay
	if f.Jitter > 0 {
		delay += time.Duration(p.rng.Int64N(int64(f.Jitter)))
	}
	dup := shuffle && f.Duplicate > 0 && p.rng.Float64() < f.Duplicate
	reorder := shuffle && f.Reorder > 0 && p.rng.Float64() < f.Reorder
	by := f.ReorderBy
	if by <= 0 {
		by = 20 * time.Millisecond
	}
	p.stats.Units++
	if delay > 0 {
		p.stats.Delayed++
	}
	if dup {
		p.stats.Duplicated++
	}
	if reorder {
		p.stats.Reordered++
	}
	p.mu.Unlock()
	due := q.inOrder(now.Add(delay))
	if reorder {
		q.add(due.Add(by), b) // later units, due earlier, overtake it
	} else {
		q.add(due, b)
	}
	if dup {
		q.add(due, b)
	}
}
