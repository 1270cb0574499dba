package tcp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// HeaderLen is the size of a frame header: the body length and the body's CRC-32C, both
// uint32 big-endian.
const HeaderLen = 8

// Decode errors. Each one means the stream can no longer be trusted, so the connection that
// produced it is closed.
var (
	ErrTruncated     = errors.New("tcp: truncated frame")
	ErrFrameTooLarge = errors.New("tcp: frame larger than limit")
	ErrChecksum      = errors.New("tcp: frame checksum mismatch")
)

// Castagnoli rather than IEEE: it has hardware support on amd64 and arm64 and better error
// detection for the burst errors a broken middlebox or a bad NIC produces.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// AppendFrame appends body, framed, to dst and returns the extended slice.
func AppendFrame(dst, body []byte) []byte {
	var h [HeaderLen]byte
	putHeader(&h, body)
	dst = append(dst, h[:]...)
	return append(dst, body...)
}

func putHeader(h *[HeaderLen]byte, body []byte) {
	binary.BigEndian.PutUint32(h[0:4], uint32(len(body)))
	binary.BigEndian.PutUint32(h[4:8], crc32.Checksum(body, castagnoli))
}

// parseHeader checks the length before anyone allocates for it: a corrupt or hostile length
// must not make the receiver reserve gigabytes.
func parseHeader(h []byte, maxFrame int) (size int, sum uint32, err error) {
	n := binary.BigEndian.Uint32(h[0:4])
	if uint64(n) > uint64(maxFrame) {
		return 0, 0, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, maxFrame)
	}
	return int(n), binary.BigEndian.Uint32(h[4:8]), nil
}

func verify(body []byte, want uint32) error {
	if got := crc32.Checksum(body, castagnoli); got != want {
		return fmt.Errorf("%w: body %08x, header %08x", ErrChecksum, got, want)
	}
	return nil
}

// DecodeFrame decodes the frame at the start of buf. It returns the body, which aliases buf,
// and the number of bytes the frame occupied. A buf that ends inside the frame gives
// ErrTruncated (more input may complete it); a length over maxFrame gives ErrFrameTooLarge
// and a body that does not match its checksum ErrChecksum.
func DecodeFrame(buf []byte, maxFrame int) (body []byte, n int, err error) {
	if len(buf) < HeaderLen {
		return nil, 0, fmt.Errorf("%w: %d of %d header bytes", ErrTruncated, len(buf), HeaderLen)
	}
	size, sum, err := parseHeader(buf, maxFrame)
	if err != nil {
		return nil, 0, err
	}
	n = HeaderLen + size
	if len(buf) < n {
		return nil, 0, fmt.Errorf("%w: %d of %d body bytes", ErrTruncated, len(buf)-HeaderLen, size)
	}
	body = buf[HeaderLen:n]
	if err := verify(body, sum); err != nil {
		return nil, 0, err
	}
	return body, n, nil
}

// Reader reads frames from a stream. It is DecodeFrame for a connection, where the input
// arrives in pieces and each body must outlive the read buffer.
type Reader struct {
	r        io.Reader
	maxFrame int
	hdr      [HeaderLen]byte
}

// NewReader returns a Reader of frames no longer than maxFrame. Wrap a network connection
// in a bufio.Reader first: Next makes two reads per frame.
func NewReader(r io.Reader, maxFrame int) *Reader {
	return &Reader{r: r, maxFrame: maxFrame}
}

// Next returns the next frame's body in a fresh slice the caller owns. It returns io.EOF
// when the stream ends between frames, an error wrapping ErrTruncated when it ends inside
// one, ErrFrameTooLarge or ErrChecksum for a corrupt frame, and the underlying error
// (wrapped) for anything else.
func (r *Reader) Next() ([]byte, error) {
	if _, err := io.ReadFull(r.r, r.hdr[:]); err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, readError("header", err)
	}
	size, sum, err := parseHeader(r.hdr[:], r.maxFrame)
	if err != nil {
		return nil, err
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r.r, body); err != nil {
		return nil, readError("body", err)
	}
	if err := verify(body, sum); err != nil {
		return nil, err
	}
	return body, nil
}

func readError(part string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: stream ended in frame %s", ErrTruncated, part)
	}
	return fmt.Errorf("read frame %s: %w", part, err)
}
