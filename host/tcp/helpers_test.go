package tcp

import (
	"errors"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// inbox records what a transport delivered.
type inbox struct {
	mu  sync.Mutex
	got map[uint64][]string
}

func (b *inbox) deliver(from uint64, payload []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.got == nil {
		b.got = make(map[uint64][]string)
	}
	b.got[from] = append(b.got[from], string(payload))
}

func (b *inbox) has(from uint64, msg string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Contains(b.got[from], msg)
}

func (b *inbox) count(from uint64) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.got[from])
}

type node struct {
	*Transport
	id uint64
	in *inbox
}

func (n *node) addr() string { return n.Addr().String() }

// start runs a transport on loopback, closed when the test ends.
func start(t *testing.T, id uint64, edit func(*Config)) *node {
	t.Helper()
	in := new(inbox)
	cfg := Config{
		ID:      id,
		Listen:  "127.0.0.1:0",
		Logger:  slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
		Deliver: in.deliver,
	}
	if edit != nil {
		edit(&cfg)
	}
	tr, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, tr.Close()) })
	return &node{Transport: tr, id: id, in: in}
}

// cluster starts n fully connected transports with IDs 1..n.
func cluster(t *testing.T, n int) []*node {
	t.Helper()
	var nodes []*node
	for i := range n {
		nodes = append(nodes, start(t, uint64(i+1), nil))
	}
	for _, a := range nodes {
		for _, b := range nodes {
			require.NoError(t, a.SetPeer(b.id, b.addr())) // its own ID is a no-op
		}
	}
	return nodes
}

// deadAddr returns a loopback address that refuses connections until someone listens on it.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

const (
	waitFor = 4 * time.Second
	tick    = 5 * time.Millisecond
)

// eventually polls cond; the deadline is a failure bound, never a wait for success.
func eventually(t *testing.T, cond func() bool, msg string, args ...any) {
	t.Helper()
	require.Eventually(t, cond, waitFor, tick, append([]any{msg}, args...)...)
}

// sendUntil resends msg until it arrives: across a restart the first copies may be written
// to a connection that is already dead, which raft tolerates and so does this test.
func sendUntil(t *testing.T, from, to *node, msg string) {
	t.Helper()
	eventually(t, func() bool {
		from.Send(to.id, []byte(msg))
		return to.in.has(from.id, msg)
	}, "%d -> %d: %q not delivered", from.id, to.id, msg)
}

// requireClosedByServer waits for the server to close conn: a read must end in EOF or a
// reset, not in our own timeout.
func requireClosedByServer(t *testing.T, conn net.Conn) {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(waitFor)))
	buf := make([]byte, 64)
	for {
		_, err := conn.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		require.False(t, errors.As(err, &ne) && ne.Timeout(), "server kept the connection open")
		return
	}
}
