package rsm

import (
	"encoding/binary"
	"errors"
	"fmt"

	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/raft"
)

// The wire form of the messages a server exchanges with peers and clients, for drivers
// that cross a real network (the simulator hands the values over as they are). A frame
// is a kind byte and the message's fields as uvarints and length-prefixed bytes.

// ErrBadMessage wraps every decoding failure.
var ErrBadMessage = errors.New("rsm: malformed message")

const (
	wirePeer byte = iota + 1
	wireRequest
	wireReply
	wireRedirect
	wirePushed
	wireRemoved
	wireAnnounce
	wireMembersQuery
	wireMembersAnswer
)

// maxWireEntries bounds the entries of one decoded message, so that a hostile count
// cannot make the decoder allocate without bound before it runs out of input.
const maxWireEntries = 1 << 20

// EncodeMessage returns the wire form of m, which must be a message this package sends
// or receives (peer traffic, Request, Reply, Redirect, Pushed, RemovedNotice, Announce,
// and a joiner's MembersQuery and its MembersAnswer).
func EncodeMessage(m c.Message) ([]byte, error) {
	switch m := m.(type) {
	case peer:
		return encodeRaft(m.M), nil
	case Request:
		b := []byte{wireRequest}
		b = binary.AppendUvarint(b, m.Client)
		b = binary.AppendUvarint(b, m.Seq)
		b = binary.AppendUvarint(b, m.Ack)
		b = append(b, flagByte(m.Read, m.Stream, m.Local, m.Conf))
		return appendBytes(b, m.Payload), nil
	case Reply:
		b := []byte{wireReply}
		b = binary.AppendUvarint(b, m.Client)
		b = binary.AppendUvarint(b, m.Seq)
		return appendBytes(b, m.Result), nil
	case Redirect:
		b := []byte{wireRedirect}
		b = binary.AppendUvarint(b, m.Client)
		b = binary.AppendUvarint(b, m.Seq)
		return binary.AppendUvarint(b, m.Leader), nil
	case RemovedNotice:
		return []byte{wireRemoved}, nil
	case Announce:
		b := appendBytes([]byte{wireAnnounce}, []byte(m.Name))
		b = binary.AppendUvarint(b, uint64(len(m.ClientURLs)))
		for _, u := range m.ClientURLs {
			b = appendBytes(b, []byte(u))
		}
		return b, nil
	case Pushed:
		return appendBytes(binary.AppendUvarint([]byte{wirePushed}, m.Stream), m.Data), nil
	case MembersQuery:
		return []byte{wireMembersQuery}, nil
	case MembersAnswer:
		return appendBytes(binary.AppendUvarint([]byte{wireMembersAnswer}, m.ClusterID), encodeMembers(m.Members)), nil
	}
	return nil, fmt.Errorf("rsm: no wire form for %T", m)
}

// RoundTrip returns m as the far end of a socket gets it: encoded and decoded. The front's
// Call, Answer and Abandon, which real members carry over gRPC instead, come back as they
// are. The simulator sends every message through it, so that the wire form real members
// use is the one every sweep tests.
func RoundTrip(m c.Message) (c.Message, error) {
	switch m.(type) {
	case Call, Answer, Abandon:
		return m, nil
	}
	b, err := EncodeMessage(m)
	if err != nil {
		return nil, err
	}
	return DecodeMessage(b)
}

// IsPeer reports whether m is raft traffic between servers (as opposed to client
// traffic), for drivers that route the two differently.
func IsPeer(m c.Message) bool {
	_, ok := m.(peer)
	return ok
}

// DecodeMessage parses EncodeMessage's output. Errors wrap ErrBadMessage and say what was
// wrong; the input is never trusted (it comes off a socket).
func DecodeMessage(b []byte) (c.Message, error) {
	r := &reader{b: b}
	var m c.Message
	switch kind := r.byte(); kind {
	case wirePeer:
		m = peer{M: decodeRaft(r)}
	case wireRequest:
		req := Request{Client: r.uvarint(), Seq: r.uvarint(), Ack: r.uvarint()}
		f := r.byte()
		req.Read, req.Stream, req.Local, req.Conf = f&1 != 0, f&2 != 0, f&4 != 0, f&8 != 0
		if f > 15 && r.err == nil {
			return nil, fmt.Errorf("%w: request flags %#x", ErrBadMessage, f)
		}
		req.Payload = r.bytes()
		m = req
	case wireReply:
		m = Reply{Client: r.uvarint(), Seq: r.uvarint(), Result: r.bytes()}
	case wireRedirect:
		m = Redirect{Client: r.uvarint(), Seq: r.uvarint(), Leader: r.uvarint()}
	case wireRemoved:
		m = RemovedNotice{}
	case wireAnnounce:
		a := Announce{Name: string(r.bytes())}
		n := r.uvarint()
		if n > uint64(len(r.b)) {
			return nil, fmt.Errorf("%w: announce of %d URLs in %d bytes", ErrBadMessage, n, len(r.b))
		}
		for range n {
			a.ClientURLs = append(a.ClientURLs, string(r.bytes()))
		}
		m = a
	case wirePushed:
		m = Pushed{Stream: r.uvarint(), Data: r.bytes()}
	case wireMembersQuery:
		m = MembersQuery{}
	case wireMembersAnswer:
		a := MembersAnswer{ClusterID: r.uvarint()}
		if raw := r.bytes(); r.err == nil {
			ms, err := decodeMembers(raw)
			if err != nil {
				return nil, fmt.Errorf("%w: members answer: %w", ErrBadMessage, err)
			}
			a.Members = ms
		}
		m = a
	default:
		if r.err == nil {
			return nil, fmt.Errorf("%w: unknown kind %d", ErrBadMessage, kind)
		}
	}
	switch {
	case r.err != nil:
		return nil, fmt.Errorf("%w: truncated or bad field (%d bytes)", ErrBadMessage, len(b))
	case len(r.b) != 0:
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrBadMessage, len(r.b))
	}
	return m, nil
}

func flagByte(fs ...bool) byte {
	var f byte
	for i, on := range fs {
		if on {
			f |= 1 << i
		}
	}
	return f
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func encodeRaft(m raft.Message) []byte {
	b := []byte{wirePeer, byte(m.Type)}
	for _, v := range []uint64{m.From, m.To, m.Term, m.LogTerm, m.Index, m.Commit, m.RejectHint} {
		b = binary.AppendUvarint(b, v)
	}
	b = append(b, flagByte(m.Reject, m.Snapshot != nil))
	b = appendBytes(b, m.Context)
	b = binary.AppendUvarint(b, uint64(len(m.Entries)))
	for _, e := range m.Entries {
		b = binary.AppendUvarint(b, e.Term)
		b = binary.AppendUvarint(b, e.Index)
		b = append(b, byte(e.Type))
		b = appendBytes(b, e.Data)
	}
	if s := m.Snapshot; s != nil {
		b = binary.AppendUvarint(b, s.Metadata.Index)
		b = binary.AppendUvarint(b, s.Metadata.Term)
		b = appendIDs(b, s.Metadata.ConfState.Voters)
		b = appendIDs(b, s.Metadata.ConfState.Learners)
		b = appendBytes(b, s.Data)
	}
	return b
}

func decodeRaft(r *reader) raft.Message {
	m := raft.Message{Type: raft.MessageType(r.byte())}
	for _, p := range []*uint64{&m.From, &m.To, &m.Term, &m.LogTerm, &m.Index, &m.Commit, &m.RejectHint} {
		*p = r.uvarint()
	}
	f := r.byte()
	m.Reject = f&1 != 0
	m.Context = r.bytes()
	if len(m.Context) == 0 {
		m.Context = nil
	}
	n := r.uvarint()
	if n > maxWireEntries || n > uint64(len(r.b)) {
		r.err = errBadRecord
		return m
	}
	for range n {
		m.Entries = append(m.Entries, raft.Entry{Term: r.uvarint(), Index: r.uvarint(), Type: raft.EntryType(r.byte()), Data: r.bytes()})
	}
	if f&2 != 0 {
		s := &raft.Snapshot{Metadata: raft.SnapshotMetadata{Index: r.uvarint(), Term: r.uvarint()}}
		s.Metadata.ConfState.Voters, s.Metadata.ConfState.Learners = r.ids(), r.ids()
		s.Data = r.bytes()
		m.Snapshot = s
	}
	if f > 3 {
		r.err = errBadRecord
	}
	return m
}
