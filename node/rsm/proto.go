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
// Seq 0 opts out of the session table: such a write is not deduplicated, for clients that
// never retry it under the same identity (a real host's one-shot gRPC requests, each with
// its own Client). A Conf request asks the leader for a membership change (built by
// ConfChangeRequest).
type Request struct {
	Client  uint64
	Seq     uint64
	Read    bool
	Stream  bool
	Local   bool
	Conf    bool
	Payload []byte
}

// Pushed carries one message of a stream (a batch of watch events) to a client.
type Pushed struct {
	Data []byte
}

func (p Pushed) String() string { return fmt.Sprintf("pushed %q", p.Data) }

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

// A proposal's entry data: client, seq, payload.
func encodeProposal(r Request) []byte {
	b := binary.AppendUvarint(nil, r.Client)
	b = binary.AppendUvarint(b, r.Seq)
	return append(b, r.Payload...)
}

func decodeProposal(b []byte) (Request, error) {
	rd := &reader{b: b}
	r := Request{Client: rd.uvarint(), Seq: rd.uvarint()}
	r.Payload = rd.b
	return r, rd.err
}

// readContext makes the unique ReadIndex context of a read request.
func readContext(r Request) []byte {
	b := binary.AppendUvarint(nil, r.Client)
	return binary.AppendUvarint(b, r.Seq)
}
