package tcp

import (
	"bufio"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingConn records each Write, to see how many syscalls a batch costs.
type countingConn struct {
	net.Conn // nil: only the methods below may be called
	writes   [][]byte
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.writes = append(c.writes, append([]byte(nil), b...))
	return len(b), nil
}

func (c *countingConn) SetWriteDeadline(time.Time) error { return nil }

func TestWriterBatchesQueue(t *testing.T) {
	p := &peer{queue: make(chan []byte, 16), stats: new(counters)}
	for i := 1; i < 10; i++ {
		p.queue <- fmt.Appendf(nil, "m%d", i)
	}
	conn := new(countingConn)
	require.NoError(t, p.writeBatch(conn, bufio.NewWriterSize(conn, writeBufSize), []byte("m0")))

	require.Len(t, conn.writes, 1, "the whole queue goes out in one flush")
	buf := conn.writes[0]
	for i := range 10 {
		body, n, err := DecodeFrame(buf, 64)
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("m%d", i), string(body), "queue order is kept")
		buf = buf[n:]
	}
	assert.Empty(t, buf)
	assert.Empty(t, p.queue)
	assert.Equal(t, uint64(10), p.stats.sent.Load())
}
