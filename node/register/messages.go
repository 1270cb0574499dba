package register

import (
	"fmt"
	"strings"

	"github.com/orrery/orrery/node/component"
)

// TS orders writes: higher Counter wins, ties broken by Writer.
type TS struct {
	Counter uint64
	Writer  component.NodeID
}

// Less reports whether t is older than o.
func (t TS) Less(o TS) bool {
	if t.Counter != o.Counter {
		return t.Counter < o.Counter
	}
	return t.Writer < o.Writer
}

func (t TS) String() string { return fmt.Sprintf("%d.%d", t.Counter, int(t.Writer)) }

// Value is a register value; the zero Value is "absent".
type Value struct {
	S   string
	Set bool
}

func (v Value) String() string {
	if !v.Set {
		return "null"
	}
	return fmt.Sprintf("%q", v.S)
}

// Cell is one key's state on a replica.
type Cell struct {
	Key string
	TS  TS
	Val Value
}

func (c Cell) String() string { return fmt.Sprintf("%s@%s=%s", c.Key, c.TS, c.Val) }

// ReqID names one phase of one client operation; answers to older phases are ignored.
type ReqID struct {
	Op    uint64
	Phase uint8
}

func (r ReqID) String() string { return fmt.Sprintf("%d.%d", r.Op, r.Phase) }

// Query asks a replica for its cell of Key.
type Query struct {
	Req ReqID
	Key string
}

// QueryReply carries the replica's cell.
type QueryReply struct {
	Req  ReqID
	Cell Cell
}

// Store asks a replica to adopt Cell if it is newer than what it has.
type Store struct {
	Req  ReqID
	Cell Cell
}

// StoreAck confirms that the replica durably holds Cell or something newer.
type StoreAck struct {
	Req ReqID
}

// StateRequest asks a healthy replica for all its cells (recovery after corruption).
type StateRequest struct {
	Nonce uint64
}

// StateReply carries every cell of the answering replica, sorted by key.
type StateReply struct {
	Nonce uint64
	Cells []Cell
}

func (m Query) String() string      { return fmt.Sprintf("query %s %q", m.Req, m.Key) }
func (m QueryReply) String() string { return fmt.Sprintf("query-reply %s %s", m.Req, m.Cell) }
func (m Store) String() string      { return fmt.Sprintf("store %s %s", m.Req, m.Cell) }
func (m StoreAck) String() string   { return fmt.Sprintf("store-ack %s", m.Req) }
func (m StateRequest) String() string {
	return fmt.Sprintf("state-request %d", m.Nonce)
}
func (m StateReply) String() string {
	parts := make([]string, len(m.Cells))
	for i, c := range m.Cells {
		parts[i] = c.String()
	}
	return fmt.Sprintf("state-reply %d [%s]", m.Nonce, strings.Join(parts, " "))
}
