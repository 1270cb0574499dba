package tcp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

const (
	// handshakeTimeout bounds how long an accepted connection may take to prove it is a
	// peer, so idle or slow strangers cannot pile up.
	handshakeTimeout = 10 * time.Second
	readBufSize      = 64 << 10
)

// accept runs until the listener is closed. Other accept errors (out of file descriptors,
// say) are logged and retried after a pause: one bad moment must not end peer traffic.
func (t *Transport) accept() {
	defer t.wg.Done()
	for {
		conn, err := t.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || t.ctx.Err() != nil {
				return
			}
			t.log.Error("accept", "err", err)
			if !sleep(t.ctx, minBackoff) {
				return
			}
			continue
		}
		if !t.track(conn) {
			conn.Close()
			return
		}
		t.wg.Add(1)
		go t.serve(conn)
	}
}

func (t *Transport) track(conn net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.inbound[conn] = struct{}{}
	return true
}

func (t *Transport) untrack(conn net.Conn, from uint64) {
	conn.Close()
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.inbound, conn)
	if from != 0 && t.byFrom[from] == conn {
		delete(t.byFrom, from)
	}
}

// claim records conn as the current connection from a sender and closes the one it
// replaces: a sender only redials when it has given up on its old connection, which may
// otherwise linger half-open here until TCP keepalive notices.
func (t *Transport) claim(from uint64, conn net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old := t.byFrom[from]; old != nil {
		old.Close()
	}
	t.byFrom[from] = conn
}

// serve reads one inbound connection: the handshake, then frames until an error.
func (t *Transport) serve(conn net.Conn) {
	defer t.wg.Done()
	r := NewReader(bufio.NewReaderSize(conn, readBufSize), t.cfg.MaxFrame)
	from, err := t.handshake(conn, r)
	if err == nil && from == 0 {
		err = t.answer(conn, r)
	}
	if err != nil || from == 0 {
		t.untrack(conn, 0)
		if err != nil {
			t.endInbound(conn, 0, &t.stats.anon, err)
		}
		return
	}
	t.claim(from, conn)
	c := t.stats.get(from)
	for {
		body, err := r.Next()
		if err != nil {
			t.untrack(conn, from)
			t.endInbound(conn, from, c, err)
			return
		}
		c.received.Add(1)
		t.cfg.Deliver(from, body)
	}
}

func (t *Transport) handshake(conn net.Conn, r *Reader) (uint64, error) {
	if err := conn.SetReadDeadline(time.Now().Add(handshakeTimeout)); err != nil {
		return 0, err
	}
	if tc, ok := conn.(*tls.Conn); ok {
		ctx, cancel := context.WithTimeout(t.ctx, handshakeTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			return 0, fmt.Errorf("%w: %w", ErrHandshake, err)
		}
	}
	body, err := r.Next()
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, ErrTruncated) || errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, fmt.Errorf("%w: no hello: %w", ErrHandshake, err)
		}
		return 0, err
	}
	h, err := decodeHello(body)
	if err != nil {
		return 0, err
	}
	if h.from == 0 { // a query (hello from 0 to 0)
		return 0, nil
	}
	if h.to != t.cfg.ID {
		return 0, fmt.Errorf("%w: node %d addressed node %d, this is node %d", ErrHandshake, h.from, h.to, t.cfg.ID)
	}
	if h.from == t.cfg.ID {
		return 0, fmt.Errorf("%w: sender claims this node's ID %d", ErrHandshake, h.from)
	}
	return h.from, conn.SetReadDeadline(time.Time{})
}

// isDecodeError tells corruption and protocol violations, which are counted and logged as
// errors, from ordinary ends of a connection.
func isDecodeError(err error) bool {
	return errors.Is(err, ErrTruncated) || errors.Is(err, ErrFrameTooLarge) ||
		errors.Is(err, ErrChecksum) || errors.Is(err, ErrHandshake)
}

func (t *Transport) endInbound(conn net.Conn, from uint64, c *counters, err error) {
	log := t.log.With("remote", conn.RemoteAddr().String())
	if from != 0 {
		log = log.With("peer", from)
	}
	switch {
	case t.ctx.Err() != nil, errors.Is(err, net.ErrClosed):
		log.Debug("closed peer connection", "err", err) // by Close, or replaced by a newer one
	case isDecodeError(err):
		c.badFrames.Add(1)
		log.Error("closing peer connection", "err", err)
	case errors.Is(err, io.EOF):
		log.Debug("peer closed its connection")
	default:
		log.Warn("peer connection failed", "err", err)
	}
}

// answer serves a query connection: one question, one answer, then the connection closes.
func (t *Transport) answer(conn net.Conn, r *Reader) error {
	if t.cfg.Answer == nil {
		return fmt.Errorf("%w: query, but this transport answers none", ErrHandshake)
	}
	q, err := r.Next()
	if err != nil {
		return err
	}
	if err := conn.SetWriteDeadline(time.Now().Add(handshakeTimeout)); err != nil {
		return err
	}
	_, err = conn.Write(AppendFrame(nil, t.cfg.Answer(q)))
	return err
}
