package tcp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrHandshake means a connection did not open with a valid hello frame, or (with TLS) its
// TLS handshake failed.
var ErrHandshake = errors.New("tcp: bad handshake")

// The hello is the first frame on every connection. The magic keeps a stray client (a port
// scanner, an HTTP probe, a peer of another protocol) from being mistaken for a peer; the
// version lets a future format be refused cleanly; the receiver's ID catches a peer table
// that points at the wrong node, e.g. after an address was reused by another member.
const (
	helloMagic   = "ORRT"
	helloVersion = 1
	helloLen     = len(helloMagic) + 1 + 8 + 8
)

type hello struct {
	from, to uint64
}

func (h hello) appendTo(dst []byte) []byte {
	dst = append(dst, helloMagic...)
	dst = append(dst, helloVersion)
	dst = binary.BigEndian.AppendUint64(dst, h.from)
	return binary.BigEndian.AppendUint64(dst, h.to)
}

func decodeHello(body []byte) (hello, error) {
	if len(body) != helloLen {
		return hello{}, fmt.Errorf("%w: hello of %d bytes, want %d", ErrHandshake, len(body), helloLen)
	}
	if string(body[:4]) != helloMagic {
		return hello{}, fmt.Errorf("%w: magic %q", ErrHandshake, body[:4])
	}
	if v := body[4]; v != helloVersion {
		return hello{}, fmt.Errorf("%w: version %d, want %d", ErrHandshake, v, helloVersion)
	}
	h := hello{from: binary.BigEndian.Uint64(body[5:13]), to: binary.BigEndian.Uint64(body[13:21])}
	if h.from == 0 && h.to != 0 {
		return hello{}, fmt.Errorf("%w: sender ID 0", ErrHandshake)
	}
	return h, nil
}
