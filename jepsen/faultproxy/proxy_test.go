package faultproxy

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func frame(body []byte) []byte {
	var h [8]byte
	binary.BigEndian.PutUint32(h[:4], uint32(len(body)))
	binary.BigEndian.PutUint32(h[4:], crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
	return append(h[:], body...)
}

// readFrame reads one frame and checks its CRC, as the receiving member does.
func readFrame(t *testing.T, r io.Reader) ([]byte, error) {
	var h [8]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint32(h[:4]))
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	require.Equal(t, binary.BigEndian.Uint32(h[4:]), crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)), "crc")
	return body, nil
}

// setup starts an upstream listener and a proxy in front of it.
func setup(t *testing.T, frames bool) (*Proxy, net.Listener) {
	t.Helper()
	up, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { up.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dial := func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", up.Addr().String())
	}
	p := New(ln, dial, frames, 1, nil)
	t.Cleanup(func() { p.Close() })
	return p, up
}

func TestFramesDuplicatedAndReordered(t *testing.T) {
	p, up := setup(t, true)
	p.Set(Faults{Duplicate: 0.3, Reorder: 0.3, ReorderBy: 5 * time.Millisecond})
	c, err := net.Dial("tcp", p.Addr().String())
	require.NoError(t, err)
	const n = 300
	go func() {
		c.Write(frame([]byte("hello")))
		for i := range n {
			c.Write(frame(binary.BigEndian.AppendUint32(nil, uint32(i))))
			if i%10 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		c.Close()
	}()
	s, err := up.Accept()
	require.NoError(t, err)
	defer s.Close()
	first, err := readFrame(t, s)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(first), "the hello is never shuffled")
	seen := map[uint32]int{}
	var got []uint32
	for {
		b, err := readFrame(t, s)
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
		id := binary.BigEndian.Uint32(b)
		seen[id]++
		got = append(got, id)
	}
	assert.Len(t, seen, n, "every frame arrives")
	assert.Greater(t, len(got), n, "some frames duplicated")
	inversions := 0
	for i := 1; i < len(got); i++ {
		if got[i] < got[i-1] {
			inversions++
		}
	}
	assert.Positive(t, inversions, "some frames reordered")
	st := p.Stats()
	assert.Positive(t, st.Duplicated)
	assert.Positive(t, st.Reordered)
}

func TestRawDelayKeepsOrder(t *testing.T) {
	p, up := setup(t, false)
	p.Set(Faults{Delay: 30 * time.Millisecond, Jitter: 20 * time.Millisecond, Duplicate: 1, Reorder: 1})
	c, err := net.Dial("tcp", p.Addr().String())
	require.NoError(t, err)
	var want bytes.Buffer
	start := time.Now()
	go func() {
		for i := range 200 {
			b := bytes.Repeat([]byte{byte(i)}, 1+i%50)
			c.Write(b)
			time.Sleep(100 * time.Microsecond)
		}
		c.Close()
	}()
	for i := range 200 {
		want.Write(bytes.Repeat([]byte{byte(i)}, 1+i%50))
	}
	s, err := up.Accept()
	require.NoError(t, err)
	defer s.Close()
	got, err := io.ReadAll(s)
	require.NoError(t, err)
	assert.Equal(t, want.Bytes(), got, "raw streams are delayed, never duplicated or reordered")
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
}

func TestUpstreamCloseClosesDownstream(t *testing.T) {
	p, up := setup(t, true)
	c, err := net.Dial("tcp", p.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	c.Write(frame([]byte("hello")))
	s, err := up.Accept()
	require.NoError(t, err)
	s.Close() // the member died or dropped the connection
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Read(make([]byte, 1))
	require.Error(t, err)
	var ne net.Error
	assert.False(t, errors.As(err, &ne) && ne.Timeout(), "the dialer notices at once (EOF or reset), as with a direct connection: %v", err)
}

func TestUpstreamDownClosesAccepted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := New(ln, func(context.Context) (net.Conn, error) { return nil, io.ErrClosedPipe }, true, 1, nil)
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF)
}
