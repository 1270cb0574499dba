package rsm

import (
	"encoding/binary"
	"slices"
)

// sessions remembers, per client, the last command applied and its result, as part of the
// replicated state. A client has at most one request outstanding and numbers them in
// order, so the latest entry is enough: a retry of the latest command gets the recorded
// result instead of a second execution, and anything older is a stale duplicate of a
// command the client has already seen answered (raft dissertation §6.3).
type sessions map[uint64]session

type session struct {
	seq    uint64
	result []byte
}

// dup classifies a command against the session table.
type dup uint8

const (
	dupNew    dup = iota // not applied yet
	dupLatest            // the client's latest applied command: answer with its result
	dupStale             // older than the latest: the client has moved on, ignore it
)

// lookup classifies (client, seq) and returns the recorded result for dupLatest.
func (s sessions) lookup(client, seq uint64) ([]byte, dup) {
	cur, ok := s[client]
	switch {
	case !ok || seq > cur.seq:
		return nil, dupNew
	case seq == cur.seq:
		return cur.result, dupLatest
	}
	return nil, dupStale
}

func (s sessions) record(client, seq uint64, result []byte) {
	s[client] = session{seq: seq, result: result}
}

func (s sessions) encode() []byte {
	clients := make([]uint64, 0, len(s))
	for c := range s {
		clients = append(clients, c)
	}
	slices.Sort(clients)
	b := binary.AppendUvarint(nil, uint64(len(clients)))
	for _, c := range clients {
		b = binary.AppendUvarint(b, c)
		b = binary.AppendUvarint(b, s[c].seq)
		b = binary.AppendUvarint(b, uint64(len(s[c].result)))
		b = append(b, s[c].result...)
	}
	return b
}

// decodeSessions reads what encode wrote and returns the rest of the buffer.
func decodeSessions(b []byte) (sessions, []byte, error) {
	r := &reader{b: b}
	n := r.uvarint()
	if n > uint64(len(b)) {
		return nil, nil, errBadRecord
	}
	s := sessions{}
	for range n {
		c, seq := r.uvarint(), r.uvarint()
		s[c] = session{seq: seq, result: r.bytes()}
	}
	return s, r.b, r.err
}
