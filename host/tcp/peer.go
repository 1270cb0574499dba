package tcp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"time"
)

const (
	minBackoff   = 50 * time.Millisecond
	maxBackoff   = 2 * time.Second
	dialTimeout  = 2 * time.Second
	writeTimeout = 5 * time.Second // a peer that takes longer to drain a batch is as good as gone
	writeBufSize = 64 << 10
)

var errPeerClosed = errors.New("tcp: peer closed the connection")

// peer is the outbound half of one peer: its bounded queue and the writer goroutine that
// owns the one connection to it. Queue and counters outlive the peer value, because
// SetPeer hands them to the peer that replaces it.
type peer struct {
	t     *Transport
	id    uint64
	addr  string
	log   *slog.Logger
	queue chan []byte
	stats *counters
	ctx   context.Context
	stop  context.CancelFunc
	done  chan struct{}
	batch [][]byte // reused between batches
}

func (t *Transport) newPeer(id uint64, addr string, old *peer) *peer {
	p := &peer{
		t:     t,
		id:    id,
		addr:  addr,
		log:   t.log.With("peer", id, "addr", addr),
		stats: t.stats.get(id),
		done:  make(chan struct{}),
	}
	if old != nil {
		p.queue = old.queue
	} else {
		p.queue = make(chan []byte, t.cfg.QueueLen)
	}
	p.ctx, p.stop = context.WithCancel(t.ctx)
	return p
}

// halt stops the writer and waits for it; the queue is left alone for a successor.
func (p *peer) halt() {
	p.stop()
	<-p.done
}

func (p *peer) dropQueued() {
	for {
		select {
		case <-p.queue:
			p.stats.dropped.Add(1)
		default:
			return
		}
	}
}

// run dials, pumps the queue into the connection until it fails, and dials again after a
// jittered exponential backoff, until the peer is halted. Frames wait in the queue while
// there is no connection, so a peer that starts late still gets the newest of them.
func (p *peer) run() {
	defer p.t.wg.Done()
	defer close(p.done)
	var b backoff
	for p.ctx.Err() == nil {
		conn, err := p.dial()
		if err == nil {
			p.log.Debug("connected to peer")
			start := time.Now()
			err = p.pump(conn)
			if time.Since(start) > maxBackoff {
				b.reset() // it was a working connection, not a flapping one
			}
		}
		if p.ctx.Err() != nil {
			return
		}
		p.logFailure(err)
		p.stats.reconnects.Add(1)
		if !sleep(p.ctx, b.next()) {
			return
		}
	}
}

func (p *peer) logFailure(err error) {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		// A peer that is down is routine and would log twenty times a second.
		p.log.Debug("dial peer", "err", err)
		return
	}
	p.log.Warn("lost connection to peer", "err", err)
}

func (p *peer) dial() (net.Conn, error) {
	ctx, cancel := context.WithTimeout(p.ctx, dialTimeout)
	defer cancel()
	d := &net.Dialer{}
	if p.t.clientTLS == nil {
		return d.DialContext(ctx, "tcp", p.addr)
	}
	td := &tls.Dialer{NetDialer: d, Config: p.t.clientTLS}
	return td.DialContext(ctx, "tcp", p.addr)
}

// pump writes the hello and then batches until the connection fails or the peer is halted.
// Peers never write on a connection they accepted, so a read that returns means the peer
// closed it or died: the watcher notices that at once instead of at the next failed write,
// which would lose the frames written in between.
func (p *peer) pump(conn net.Conn) error {
	dead := make(chan struct{})
	go func() {
		defer close(dead)
		io.Copy(io.Discard, conn)
	}()
	stopClose := context.AfterFunc(p.ctx, func() { conn.Close() })
	defer func() {
		stopClose()
		conn.Close()
		<-dead
	}()

	bw := bufio.NewWriterSize(conn, writeBufSize)
	h := hello{from: p.t.cfg.ID, to: p.id}
	if err := p.flush(conn, bw, [][]byte{h.appendTo(nil)}); err != nil {
		return fmt.Errorf("send hello: %w", err)
	}
	for {
		select {
		case <-p.ctx.Done():
			return p.ctx.Err()
		case <-dead:
			return errPeerClosed
		case first := <-p.queue:
			if err := p.writeBatch(conn, bw, first); err != nil {
				return err
			}
		}
	}
}

// writeBatch drains what is queued behind first and writes it all with one flush: under
// load that is one syscall for many small raft messages instead of one each.
func (p *peer) writeBatch(conn net.Conn, bw *bufio.Writer, first []byte) error {
	p.batch = append(p.batch[:0], first)
	for range len(p.queue) {
		p.batch = append(p.batch, <-p.queue)
	}
	err := p.flush(conn, bw, p.batch)
	n := uint64(len(p.batch))
	clear(p.batch) // let the payloads be collected
	if err != nil {
		p.stats.dropped.Add(n)
		return fmt.Errorf("write %d frames: %w", n, err)
	}
	p.stats.sent.Add(n)
	return nil
}

func (p *peer) flush(conn net.Conn, bw *bufio.Writer, bodies [][]byte) error {
	if err := conn.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	var h [HeaderLen]byte
	for _, body := range bodies {
		putHeader(&h, body)
		bw.Write(h[:])
		bw.Write(body)
	}
	return bw.Flush() // bufio.Writer keeps the first error, so checking here is enough
}

// backoff is exponential with jitter, so that members restarted together do not redial
// in lockstep.
type backoff struct{ cur time.Duration }

func (b *backoff) next() time.Duration {
	b.cur = min(max(2*b.cur, minBackoff), maxBackoff)
	return b.cur/2 + rand.N(b.cur/2)
}

func (b *backoff) reset() { b.cur = 0 }

// sleep waits for d or ctx, reporting whether the whole d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
