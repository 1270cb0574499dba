package etcdapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// The snapshot stream. etcdctl snapshot save (client/v3/snapshot) accepts a stream only
// if its length is 32 more than a multiple of 512: etcd sends its bbolt file (whole pages)
// and then the file's sha256. A backend's snapshot has any length, so the server frames
// it: the payload, zeros up to 8 bytes short of a 512-byte boundary, the payload's length
// as 8 bytes big-endian, then the sha256 of all that. SnapshotPayload undoes it.

const (
	snapshotChunk = 32 * 1024 // bytes per response, like etcd's snapshotSendBufferSize
	snapshotAlign = 512
	lengthBytes   = 8
)

// ErrBadSnapshot is SnapshotPayload's refusal of a file that is not a whole snapshot
// stream of this server.
var ErrBadSnapshot = errors.New("etcdapi: not a snapshot saved from an orrery member")

// SnapshotPayload checks a saved snapshot stream (etcdctl snapshot save's file) and
// returns the backend's snapshot bytes inside it.
func SnapshotPayload(file []byte) ([]byte, error) {
	n := len(file)
	if n%snapshotAlign != sha256.Size || n < snapshotAlign+sha256.Size {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadSnapshot, n)
	}
	body, sum := file[:n-sha256.Size], file[n-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, fmt.Errorf("%w: sha256 mismatch", ErrBadSnapshot)
	}
	size := binary.BigEndian.Uint64(body[len(body)-lengthBytes:])
	pad := uint64(len(body) - lengthBytes)
	if size > pad || pad-size >= snapshotAlign {
		return nil, fmt.Errorf("%w: payload length %d in %d bytes", ErrBadSnapshot, size, len(body))
	}
	return body[:size], nil
}

// snapshotTrailer returns what follows a payload of size bytes, before the sha256.
func snapshotTrailer(size int64) []byte {
	pad := (snapshotAlign - (size+lengthBytes)%snapshotAlign) % snapshotAlign
	t := make([]byte, pad+lengthBytes)
	binary.BigEndian.PutUint64(t[pad:], uint64(size))
	return t
}

func (m *maintenanceServer) Snapshot(_ *pb.SnapshotRequest, srv pb.Maintenance_SnapshotServer) error {
	sn, ok := m.s.b.(Snapshotter)
	if !ok {
		return unimplemented("Snapshot")
	}
	rc, err := sn.Snapshot(srv.Context())
	if err != nil {
		return toGRPC(err)
	}
	defer rc.Close()
	total := int64(-1)
	if sz, ok := rc.(interface{ Size() int64 }); ok {
		total = sz.Size()
	}
	st := &snapshotSender{srv: srv, h: sha256.New(), version: storageVersion(m.s.opts.Version), hdr: m.s.header(0)}
	if total >= 0 {
		st.remaining = total + int64(len(snapshotTrailer(total))) + sha256.Size
	}
	size, err := st.copy(rc)
	if err != nil {
		return err
	}
	if err := st.send(snapshotTrailer(size)); err != nil {
		return err
	}
	return st.send(st.h.Sum(nil))
}

// snapshotSender sends a snapshot in chunks, hashing what it sent.
type snapshotSender struct {
	srv       pb.Maintenance_SnapshotServer
	h         hash.Hash
	version   string
	hdr       *pb.ResponseHeader
	remaining int64 // bytes left to send, when known
}

func (st *snapshotSender) copy(r io.Reader) (int64, error) {
	var size int64
	for {
		buf := make([]byte, snapshotChunk) // Send may keep it: a fresh buffer each time
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			size += int64(n)
			if serr := st.send(buf[:n]); serr != nil {
				return 0, serr
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return size, nil
		}
		if err != nil {
			return 0, toGRPC(fmt.Errorf("read snapshot: %w", err))
		}
	}
}

func (st *snapshotSender) send(b []byte) error {
	if st.remaining > 0 {
		st.remaining = max(st.remaining-int64(len(b)), 0)
	}
	resp := &pb.SnapshotResponse{Header: st.hdr, RemainingBytes: uint64(st.remaining), Blob: b, Version: st.version}
	if err := st.srv.Send(resp); err != nil {
		return err
	}
	_, _ = st.h.Write(b)
	return nil
}
