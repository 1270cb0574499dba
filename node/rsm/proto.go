package rsm

import (
	"encoding/binary"
	"fmt"

	"github.com/orrery/orrery/node/raft"
)

// peer carries a raft message between servers.
type peer struct {
	M raft.Message
}

func (p peer) String() string { return p.M.String() }

// Request is a client's command (Read false: replicated through the log) or query (Read
// true: served after a ReadIndex round). (Client, Seq) identifies it across retries. A
// Stream request opens a push stream (a watch) on whichever server receives it; see
// Streamer. A Local request is answered by the server that receives it (see Local).
// Ack is the client's floor: every one of its commands numbered Ack or lower is finished
// (see sessions); a client with one command at a time sends Seq-1. Seq 0 opts out of the
// session table: such a write is not deduplicated (the leader's own proposals). A Conf
// request asks the leader for a membership change (built by
// ConfChangeRequest).
type Request struct {
	Client  uint64
	Seq     uint64
	Ack     uint64
	Read    bool
	Stream  bool
	Local   bool
	Conf    bool
	Payload []byte
}

// Pushed carries one message of a stream (a batch of watch events) to a client.
// Stream is the ID of the Call that opened the stream (0 for a stream opened with a
// Request, which is addressed to the client by its node ID).
type Pushed struct {
	Stream uint64
	Data   []byte
}

func (p Pushed) String() string {
	if p.Stream != 0 {
		return fmt.Sprintf("pushed stream=%d %q", p.Stream, p.Data)
	}
	return fmt.Sprintf("pushed %q", p.Data)
}

func (r Request) String() string {
	kind := "write"
	switch {
	case r.Stream:
		kind = "stream"
	case r.Read:
		kind = "read"
	case r.Local:
		kind = "local"
	case r.Conf:
		kind = "conf"
	}
	if r.Ack != 0 && r.Ack+1 != r.Seq {
		return fmt.Sprintf("request %s c=%d s=%d ack=%d %q", kind, r.Client, r.Seq, r.Ack, r.Payload)
	}
	return fmt.Sprintf("request %s c=%d s=%d %q", kind, r.Client, r.Seq, r.Payload)
}

// Reply answers a Request with the application's result.
type Reply struct {
	Client uint64
	Seq    uint64
	Result []byte
}

func (r Reply) String() string {
	return fmt.Sprintf("reply c=%d s=%d %q", r.Client, r.Seq, r.Result)
}

// Redirect tells a client that this server is not the leader; Leader is the one it knows
// of, or 0.
type Redirect struct {
	Client uint64
	Seq    uint64
	Leader uint64
}

func (r Redirect) String() string {
	return fmt.Sprintf("redirect c=%d s=%d leader=%d", r.Client, r.Seq, r.Leader)
}

// A proposal's entry data: client, seq, the client's ack when seq is not 0, payload.
// (Entries without a session, seq 0, have no ack: the form they had before acks existed,
// which every data dir written then holds.)
func encodeProposal(r Request) []byte {
	b := binary.AppendUvarint(nil, r.Client)
	b = binary.AppendUvarint(b, r.Seq)
	if r.Seq != 0 {
		b = binary.AppendUvarint(b, r.Ack)
	}
	return append(b, r.Payload...)
}

func decodeProposal(b []byte) (Request, error) {
	rd := &reader{b: b}
	r := Request{Client: rd.uvarint(), Seq: rd.uvarint()}
	if r.Seq != 0 {
		r.Ack = rd.uvarint()
	}
	r.Payload = rd.b
	return r, rd.err
}

// readContext makes the unique ReadIndex context of a read request.
func readContext(r Request) []byte {
	b := binary.AppendUvarint(nil, r.Client)
	return binary.AppendUvarint(b, r.Seq)
}
