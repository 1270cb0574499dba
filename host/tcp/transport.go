package tcp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"sync"

	"github.com/orrery/orrery/host/transport"
)

// Defaults for the zero values of Config.
const (
	DefaultQueueLen = 4096
	DefaultMaxFrame = 8 << 20
)

// ErrClosed is returned by SetPeer and RemovePeer after Close.
var ErrClosed = errors.New("tcp: transport closed")

// Config configures a Transport.
type Config struct {
	// ID is this member's raft ID; it must not be 0 (raft's "no node").
	ID uint64
	// Listen is the host:port to accept peers on; port 0 picks a free one (see Addr).
	Listen string
	// Peers maps peer IDs to their listen addresses. An entry for ID itself is ignored, so
	// the same cluster list can configure every member. New copies the map.
	Peers map[uint64]string
	// TLS, when set, turns on mutual TLS: the listener requires and verifies client
	// certificates (against ClientCAs), and dialing presents Certificates and verifies the
	// peer against RootCAs. New clones it.
	TLS *tls.Config
	// QueueLen bounds each peer's outbound queue, in frames. Zero means DefaultQueueLen.
	QueueLen int
	// MaxFrame bounds a payload in bytes, both for Send and for what is accepted from a
	// peer; keep it equal across the cluster. Zero means DefaultMaxFrame.
	MaxFrame int
	// Logger receives connection events; nil means slog.Default().
	Logger *slog.Logger
	// Deliver receives each inbound payload, which it then owns. It runs on the reading
	// goroutine of the sender's connection: concurrently for different senders, in order
	// for one connection. While it runs, that connection is not read, so a slow Deliver
	// pushes back on the sender through TCP, whose queue then drops. Required.
	Deliver func(from uint64, payload []byte)
	// Answer, if set, answers queries (see Query) from callers that are not members yet,
	// such as a member joining the cluster that needs the member table. It runs on the
	// query's connection goroutine and must be safe for concurrent use.
	Answer func(query []byte) []byte
}

func (c Config) withDefaults() (Config, error) {
	if c.ID == 0 {
		return c, errors.New("tcp: config: ID 0 is reserved")
	}
	if c.Deliver == nil {
		return c, errors.New("tcp: config: Deliver is required")
	}
	if c.QueueLen < 0 || c.MaxFrame < 0 || c.MaxFrame > math.MaxUint32 {
		return c, fmt.Errorf("tcp: config: QueueLen %d or MaxFrame %d out of range", c.QueueLen, c.MaxFrame)
	}
	if c.QueueLen == 0 {
		c.QueueLen = DefaultQueueLen
	}
	if c.MaxFrame == 0 {
		c.MaxFrame = DefaultMaxFrame
	}
	if c.MaxFrame < helloLen {
		return c, fmt.Errorf("tcp: config: MaxFrame %d cannot hold the %d-byte hello", c.MaxFrame, helloLen)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// Transport is a peer transport over TCP. Its methods are safe for concurrent use.
type Transport struct {
	cfg       Config
	log       *slog.Logger
	ln        net.Listener
	clientTLS *tls.Config // nil without TLS

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the transport started
	stats  statsTable

	cfgMu sync.Mutex // serialises SetPeer, RemovePeer and Close

	mu      sync.RWMutex
	closed  bool
	peers   map[uint64]*peer
	inbound map[net.Conn]struct{} // accepted connections, to close on Close
	byFrom  map[uint64]net.Conn   // the newest handshaken inbound connection per sender
}

var _ transport.Transport = (*Transport)(nil)

// New listens on cfg.Listen and starts a writer for every peer in cfg.Peers.
func New(cfg Config) (*Transport, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("tcp: listen %s: %w", cfg.Listen, err)
	}
	t := &Transport{
		cfg:     cfg,
		log:     cfg.Logger.With("node", cfg.ID),
		peers:   make(map[uint64]*peer),
		inbound: make(map[net.Conn]struct{}),
		byFrom:  make(map[uint64]net.Conn),
	}
	if cfg.TLS != nil {
		t.clientTLS = cfg.TLS.Clone()
		server := cfg.TLS.Clone()
		server.ClientAuth = tls.RequireAndVerifyClientCert
		ln = tls.NewListener(ln, server)
	}
	t.ln = ln
	t.ctx, t.cancel = context.WithCancel(context.Background())
	for id, addr := range cfg.Peers {
		if err := t.SetPeer(id, addr); err != nil {
			t.Close()
			return nil, err
		}
	}
	t.wg.Add(1)
	go t.accept()
	return t, nil
}

// Addr returns the address the transport listens on.
func (t *Transport) Addr() net.Addr { return t.ln.Addr() }

// Send queues payload for peer to without blocking; see transport.Transport for the
// contract. It returns false, counting a drop, when the peer is unknown, its queue is full,
// payload exceeds MaxFrame or the transport is closed.
func (t *Transport) Send(to uint64, payload []byte) bool {
	t.mu.RLock()
	p := t.peers[to]
	t.mu.RUnlock()
	if p == nil {
		t.stats.anon.dropped.Add(1)
		return false
	}
	if len(payload) > t.cfg.MaxFrame {
		p.stats.dropped.Add(1)
		return false
	}
	select {
	case p.queue <- payload:
		return true
	default:
		p.stats.dropped.Add(1)
		return false
	}
}

// SetPeer adds peer id at addr or moves it there. Frames already queued for the peer are
// kept and go to the new address. Setting this member's own ID is a no-op, so a full
// cluster list can be applied as is.
func (t *Transport) SetPeer(id uint64, addr string) error {
	if id == 0 {
		return errors.New("tcp: set peer: ID 0 is reserved")
	}
	if id == t.cfg.ID {
		return nil
	}
	t.cfgMu.Lock()
	defer t.cfgMu.Unlock()
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return ErrClosed
	}
	old := t.peers[id]
	if old != nil && old.addr == addr {
		t.mu.Unlock()
		return nil
	}
	p := t.newPeer(id, addr, old)
	t.peers[id] = p
	t.mu.Unlock()
	if old != nil {
		old.halt()
	}
	t.wg.Add(1)
	go p.run()
	return nil
}

// RemovePeer stops sending to peer id and drops what was queued for it. Connections the
// peer opened to us stay up until it closes them: it may still be catching up on its own
// removal.
func (t *Transport) RemovePeer(id uint64) error {
	t.cfgMu.Lock()
	defer t.cfgMu.Unlock()
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return ErrClosed
	}
	p := t.peers[id]
	delete(t.peers, id)
	t.mu.Unlock()
	if p != nil {
		p.halt()
		p.dropQueued()
	}
	return nil
}

// Stats returns a snapshot of the counters.
func (t *Transport) Stats() Stats { return t.stats.snapshot() }

// Close stops accepting, closes every connection, stops every writer and waits for all the
// transport's goroutines. Frames still queued are dropped. Close is idempotent.
func (t *Transport) Close() error {
	t.cfgMu.Lock()
	defer t.cfgMu.Unlock()
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	peers := t.peers
	t.peers = make(map[uint64]*peer)
	for c := range t.inbound {
		c.Close()
	}
	t.mu.Unlock()

	t.cancel() // writers close their own connections on it
	err := t.ln.Close()
	for _, p := range peers {
		p.halt()
		p.dropQueued()
	}
	t.wg.Wait()
	if err != nil {
		return fmt.Errorf("tcp: close listener: %w", err)
	}
	return nil
}
