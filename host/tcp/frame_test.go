package tcp

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFrameRoundTrip(t *testing.T) {
	for _, body := range [][]byte{{}, []byte("x"), []byte("hello raft"), bytes.Repeat([]byte{0xab}, 70000)} {
		buf := AppendFrame([]byte("prefix"), body)
		got, n, err := DecodeFrame(buf[len("prefix"):], len(body))
		require.NoError(t, err)
		assert.Equal(t, HeaderLen+len(body), n)
		assert.Equal(t, body, got)

		// The stream reader sees the same frames, and a clean end as io.EOF.
		r := NewReader(bytes.NewReader(AppendFrame(AppendFrame(nil, body), body)), len(body))
		for range 2 {
			got, err = r.Next()
			require.NoError(t, err)
			assert.Equal(t, body, got)
		}
		_, err = r.Next()
		assert.Equal(t, io.EOF, err)
	}
}

func TestDecodeFrameRejects(t *testing.T) {
	good := AppendFrame(nil, []byte("payload"))
	flipped := bytes.Clone(good)
	flipped[len(flipped)-1] ^= 1
	badSum := bytes.Clone(good)
	badSum[5] ^= 0x80
	for _, tc := range []struct {
		name string
		buf  []byte
		max  int
		want error
	}{
		{"empty", nil, 64, ErrTruncated},
		{"short header", good[:5], 64, ErrTruncated},
		{"short body", good[:len(good)-1], 64, ErrTruncated},
		{"over limit", good, 6, ErrFrameTooLarge},
		{"huge length", []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, 1 << 20, ErrFrameTooLarge},
		{"flipped body bit", flipped, 64, ErrChecksum},
		{"flipped checksum bit", badSum, 64, ErrChecksum},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := DecodeFrame(tc.buf, tc.max)
			assert.ErrorIs(t, err, tc.want)
			_, err = NewReader(bytes.NewReader(tc.buf), tc.max).Next()
			if len(tc.buf) == 0 {
				assert.Equal(t, io.EOF, err, "nothing at all is a clean end for a stream")
				return
			}
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

func TestHello(t *testing.T) {
	h := hello{from: 7, to: 3}
	got, err := decodeHello(h.appendTo(nil))
	require.NoError(t, err)
	assert.Equal(t, h, got)

	bad := func(edit func([]byte) []byte) []byte { return edit(h.appendTo(nil)) }
	for name, body := range map[string][]byte{
		"short":   bad(func(b []byte) []byte { return b[:10] }),
		"long":    bad(func(b []byte) []byte { return append(b, 0) }),
		"magic":   bad(func(b []byte) []byte { b[0] = 'X'; return b }),
		"version": bad(func(b []byte) []byte { b[4] = 9; return b }),
		"from 0":  hello{from: 0, to: 3}.appendTo(nil),
	} {
		_, err := decodeHello(body)
		assert.ErrorIs(t, err, ErrHandshake, name)
	}
}

// FuzzDecodeFrame checks DecodeFrame against its own encoder and against the stream Reader:
// whatever the input, they must agree, and nothing may panic or over-allocate.
func FuzzDecodeFrame(f *testing.F) {
	f.Add(AppendFrame(nil, []byte("seed")))
	const maxFrame = 4096
	f.Fuzz(func(t *testing.T, data []byte) {
		body, n, err := DecodeFrame(data, maxFrame)
		streamBody, streamErr := NewReader(bytes.NewReader(data), maxFrame).Next()
		if err != nil {
			require.Nil(t, body)
			require.True(t, errors.Is(err, ErrTruncated) || errors.Is(err, ErrFrameTooLarge) ||
				errors.Is(err, ErrChecksum), "unexpected error %v", err)
			if len(data) == 0 {
				require.Equal(t, io.EOF, streamErr)
			} else {
				require.ErrorIs(t, streamErr, errors.Unwrap(err))
			}
			return
		}
		require.LessOrEqual(t, n, len(data))
		require.LessOrEqual(t, len(body), maxFrame)
		require.Equal(t, data[:n], AppendFrame(nil, body), "re-encoding must give the same bytes")
		require.NoError(t, streamErr)
		require.Equal(t, body, streamBody)
		if h, err := decodeHello(body); err == nil {
			require.Equal(t, body, h.appendTo(nil))
		}
	})
}
