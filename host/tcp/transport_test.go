package tcp

import (
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExchangeBothWays(t *testing.T) {
	nodes := cluster(t, 3)
	// Sent once each, before any connection exists: queued frames wait for the dial.
	for _, a := range nodes {
		for _, b := range nodes {
			if a != b {
				for i := range 50 {
					require.True(t, a.Send(b.id, fmt.Appendf(nil, "%d->%d #%d", a.id, b.id, i)))
				}
			}
		}
	}
	for _, a := range nodes {
		for _, b := range nodes {
			if a != b {
				eventually(t, func() bool { return b.in.count(a.id) == 50 },
					"%d -> %d", a.id, b.id)
			}
		}
	}
	for _, b := range nodes {
		for _, a := range nodes {
			if a != b {
				assert.Equal(t, 50, b.in.count(a.id), "%d from %d", b.id, a.id)
				assert.True(t, b.in.has(a.id, fmt.Sprintf("%d->%d #49", a.id, b.id)))
			}
		}
		st := b.Stats()
		assert.Equal(t, uint64(100), st.Total.Received)
		assert.Zero(t, st.Total.Dropped)
		assert.Zero(t, st.Total.BadFrames)
	}
	eventually(t, func() bool { return nodes[0].Stats().Total.Sent == 100 }, "sent counter")
}

func TestLatePeerReached(t *testing.T) {
	addr := deadAddr(t)
	a := start(t, 1, func(c *Config) { c.Peers = map[uint64]string{2: addr} })
	require.True(t, a.Send(2, []byte("early")))
	eventually(t, func() bool { return a.Stats().Peers[2].Reconnects >= 1 }, "a never retried")

	b := start(t, 2, func(c *Config) { c.Listen = addr; c.Peers = map[uint64]string{1: a.addr()} })
	eventually(t, func() bool { return b.in.has(1, "early") }, "queued frame not delivered after reconnect")
	sendUntil(t, b, a, "reply")
}

func TestPeerRestartRecovers(t *testing.T) {
	nodes := cluster(t, 2)
	a, b := nodes[0], nodes[1]
	sendUntil(t, a, b, "before")
	sendUntil(t, b, a, "before")

	addr := b.addr()
	require.NoError(t, b.Close())
	b2 := start(t, 2, func(c *Config) { c.Listen = addr; c.Peers = map[uint64]string{1: a.addr()} })
	sendUntil(t, a, b2, "after")
	sendUntil(t, b2, a, "after")
	assert.GreaterOrEqual(t, a.Stats().Peers[2].Reconnects, uint64(1))
}

func TestFullQueueDrops(t *testing.T) {
	a := start(t, 1, func(c *Config) {
		c.QueueLen = 4
		c.MaxFrame = 64
		c.Peers = map[uint64]string{2: deadAddr(t)}
	})
	// The writer only dequeues onto a live connection, so the queue fills exactly.
	for i := range 4 {
		require.True(t, a.Send(2, []byte{byte(i)}), "frame %d", i)
	}
	assert.False(t, a.Send(2, []byte("one too many")), "a full queue must drop, not block")
	assert.False(t, a.Send(2, make([]byte, 65)), "over MaxFrame")
	assert.False(t, a.Send(42, []byte("unknown peer")))

	st := a.Stats()
	assert.Equal(t, uint64(2), st.Peers[2].Dropped)
	assert.Equal(t, uint64(3), st.Total.Dropped)
}

func TestSetPeerKeepsQueue(t *testing.T) {
	b := start(t, 2, nil)
	a := start(t, 1, func(c *Config) { c.Peers = map[uint64]string{2: deadAddr(t)} })
	require.True(t, a.Send(2, []byte("queued")))
	require.NoError(t, a.SetPeer(2, b.addr()))
	eventually(t, func() bool { return b.in.has(1, "queued") }, "frame queued before the move was lost")

	require.NoError(t, a.RemovePeer(2))
	assert.False(t, a.Send(2, []byte("gone")))
}

func TestGarbageClosesOnlyThatConnection(t *testing.T) {
	nodes := cluster(t, 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	sendUntil(t, a, b, "warm-up")

	helloTo := func(to uint64) []byte { return AppendFrame(nil, hello{from: 99, to: to}.appendTo(nil)) }
	badSum := AppendFrame(nil, []byte("payload"))
	badSum[len(badSum)-1] ^= 0xff
	for i, tc := range []struct {
		name  string
		bytes []byte
	}{
		{"http request", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
		{"hello for another node", helloTo(3)},
		{"hello with bad magic", AppendFrame(nil, []byte("XXXX\x01\x00\x00\x00\x00\x00\x00\x00\x63\x00\x00\x00\x00\x00\x00\x00\x02"))},
		{"bad checksum", append(helloTo(2), badSum...)},
		{"over MaxFrame", append(helloTo(2), 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0)},
		{"truncated body", append(helloTo(2), AppendFrame(nil, []byte("payload"))[:10]...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := b.Stats().Total.BadFrames
			conn, err := net.Dial("tcp", b.addr())
			require.NoError(t, err)
			defer conn.Close()
			_, err = conn.Write(tc.bytes)
			require.NoError(t, err)
			require.NoError(t, conn.(*net.TCPConn).CloseWrite()) // lets a truncated frame end
			requireClosedByServer(t, conn)
			eventually(t, func() bool { return b.Stats().Total.BadFrames == before+1 }, "bad-frame counter")

			// The listener and the real peers' connections are untouched.
			sendUntil(t, a, b, fmt.Sprintf("a after garbage %d", i))
			sendUntil(t, c, b, fmt.Sprintf("c after garbage %d", i))
			sendUntil(t, b, a, fmt.Sprintf("b after garbage %d", i))
		})
	}
	assert.Zero(t, b.in.count(99), "nothing from the impostor may be delivered")
	assert.Zero(t, a.Stats().Total.BadFrames)
}

func TestCloseIsFinal(t *testing.T) {
	a := start(t, 1, func(c *Config) { c.Peers = map[uint64]string{2: deadAddr(t)} })
	require.NoError(t, a.Close())
	require.NoError(t, a.Close(), "Close is idempotent")
	assert.False(t, a.Send(2, []byte("late")))
	assert.ErrorIs(t, a.SetPeer(3, "127.0.0.1:1"), ErrClosed)
	assert.ErrorIs(t, a.RemovePeer(2), ErrClosed)
}

func TestConfigRejected(t *testing.T) {
	deliver := func(uint64, []byte) {}
	for name, cfg := range map[string]Config{
		"ID 0":           {Listen: "127.0.0.1:0", Deliver: deliver},
		"no Deliver":     {ID: 1, Listen: "127.0.0.1:0"},
		"negative queue": {ID: 1, Listen: "127.0.0.1:0", Deliver: deliver, QueueLen: -1},
		"tiny MaxFrame":  {ID: 1, Listen: "127.0.0.1:0", Deliver: deliver, MaxFrame: 8},
		"peer ID 0":      {ID: 1, Listen: "127.0.0.1:0", Deliver: deliver, Peers: map[uint64]string{0: "x:1"}},
		"bad listen":     {ID: 1, Listen: "not an address", Deliver: deliver},
	} {
		_, err := New(cfg)
		assert.Error(t, err, name)
	}
}
