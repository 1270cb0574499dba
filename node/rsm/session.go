package rsm

import (
	"encoding/binary"
	"maps"
	"slices"
)

// sessions remembers, per client, which of its commands have been applied and their
// results, as part of the replicated state, so that every command is applied at most once
// however often it is sent (raft dissertation §6.3). A client numbers its commands (Seq)
// and may have several outstanding; every request carries Ack, the client's promise that
// every command numbered Ack or lower is finished (answered, or given up on). The session
// keeps the results of applied commands above that floor and nothing below it: a command
// at or below the floor is never applied again, so a late copy of a command its client
// gave up on cannot take effect after the client moved on. A client with one command at a
// time sends Ack = Seq-1 and keeps one result.
type sessions map[uint64]*session

type session struct {
	floor uint64            // every command numbered floor or lower is finished
	done  map[uint64][]byte // applied commands above floor, with their results
}

// dup classifies a command against the session table.
type dup uint8

const (
	dupNew    dup = iota // not applied yet
	dupLatest            // applied: answer with its recorded result
	dupStale             // at or below the client's floor: the client has moved on, ignore it
)

// lookup classifies (client, seq) and returns the recorded result for dupLatest.
func (s sessions) lookup(client, seq uint64) ([]byte, dup) {
	cur, ok := s[client]
	switch {
	case !ok:
		return nil, dupNew
	case seq <= cur.floor:
		return nil, dupStale
	}
	if r, ok := cur.done[seq]; ok {
		return r, dupLatest
	}
	return nil, dupNew
}

// record notes that (client, seq) was applied with result, and raises the client's floor
// to ack, forgetting the results at or below it.
func (s sessions) record(client, seq, ack uint64, result []byte) {
	cur := s[client]
	if cur == nil {
		cur = &session{done: map[uint64][]byte{}}
		s[client] = cur
	}
	cur.done[seq] = result
	s.ack(client, ack)
}

// ack raises the client's floor (it never goes down).
func (s sessions) ack(client, ack uint64) {
	cur := s[client]
	if cur == nil || ack <= cur.floor {
		return
	}
	cur.floor = ack
	maps.DeleteFunc(cur.done, func(seq uint64, _ []byte) bool { return seq <= ack })
}

// The table's encoding: the count of clients, then per client its ID, floor, the count of
// applied commands above the floor and each one's seq and result, all in ascending order.
func (s sessions) encode() []byte {
	clients := slices.Sorted(maps.Keys(s))
	b := binary.AppendUvarint(nil, uint64(len(clients)))
	for _, c := range clients {
		cur := s[c]
		b = binary.AppendUvarint(b, c)
		b = binary.AppendUvarint(b, cur.floor)
		b = binary.AppendUvarint(b, uint64(len(cur.done)))
		for _, seq := range slices.Sorted(maps.Keys(cur.done)) {
			b = binary.AppendUvarint(b, seq)
			b = appendBytes(b, cur.done[seq])
		}
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
		c := r.uvarint()
		cur := &session{floor: r.uvarint(), done: map[uint64][]byte{}}
		k := r.uvarint()
		if k > uint64(len(r.b)) {
			return nil, nil, errBadRecord
		}
		for range k {
			seq := r.uvarint()
			cur.done[seq] = r.bytes()
		}
		s[c] = cur
	}
	return s, r.b, r.err
}
