package raft

// EntryType says how the application must interpret an Entry's Data.
type EntryType uint8

const (
	// EntryNormal carries application data (or nothing: a new leader's empty entry).
	EntryNormal EntryType = iota
	// EntryConfChange carries an encoded membership change (see EncodeConfChange).
	EntryConfChange
)

// Entry is one record of the replicated log.
type Entry struct {
	Term  uint64
	Index uint64
	Type  EntryType
	Data  []byte
}

// size is the accounting size of an entry for flow control.
func (e Entry) size() uint64 { return uint64(len(e.Data)) + 16 }

func entsSize(ents []Entry) uint64 {
	var s uint64
	for _, e := range ents {
		s += e.size()
	}
	return s
}

// MessageType names the kind of a Message.
type MessageType uint8

// The message types. Local requests (Propose, ReadIndex, TransferLeader) travel as MsgProp,
// MsgReadIndex and MsgTransferLeader when a follower forwards them to the leader.
const (
	MsgProp MessageType = iota + 1
	MsgApp
	MsgAppResp
	MsgVote
	MsgVoteResp
	MsgPreVote
	MsgPreVoteResp
	MsgSnap
	MsgHeartbeat
	MsgHeartbeatResp
	MsgTimeoutNow
	MsgReadIndex
	MsgReadIndexResp
	MsgTransferLeader
)

// Message is what nodes exchange. Only the fields a type needs are set.
type Message struct {
	Type MessageType
	From uint64
	To   uint64
	// Term is the sender's term; 0 for MsgProp and MsgReadIndex, which are forwarded
	// requests rather than protocol messages.
	Term uint64
	// LogTerm and Index: for MsgApp the entry preceding Entries; for votes the candidate's
	// last entry; for a rejected MsgAppResp, LogTerm is the term at RejectHint.
	LogTerm uint64
	Index   uint64
	Entries []Entry
	Commit  uint64
	Reject  bool
	// RejectHint is, on a rejected MsgAppResp, the follower's best guess of the highest index
	// that may match the leader's log (used for fast backtracking).
	RejectHint uint64
	Snapshot   *Snapshot
	// Context carries the ReadIndex request context (MsgReadIndex, MsgHeartbeat and their
	// responses) or the leadership-transfer marker on votes.
	Context []byte
}

// HardState is the state a node must persist (and sync) before sending a vote or an
// append acknowledgement.
type HardState struct {
	Term   uint64
	Vote   uint64
	Commit uint64
}

// IsEmpty reports whether h is the zero HardState.
func (h HardState) IsEmpty() bool { return h == HardState{} }

// ConfState is a cluster configuration: the voters and the learners, each sorted.
type ConfState struct {
	Voters   []uint64
	Learners []uint64
}

// SnapshotMetadata says which prefix of the log a snapshot replaces.
type SnapshotMetadata struct {
	Index     uint64
	Term      uint64
	ConfState ConfState
}

// Snapshot is the application state at Metadata.Index, replacing the log up to it.
type Snapshot struct {
	Data     []byte
	Metadata SnapshotMetadata
}

// IsEmpty reports whether s holds no snapshot.
func (s Snapshot) IsEmpty() bool { return s.Metadata.Index == 0 }

// Role is the role a node plays in its current term.
type Role uint8

// The roles.
const (
	RoleFollower Role = iota
	RolePreCandidate
	RoleCandidate
	RoleLeader
)

// SoftState is volatile state that the driver may want to observe: the known leader and
// this node's role. It is never persisted.
type SoftState struct {
	Lead uint64
	Role Role
}

// ReadState answers a ReadIndex request: once the application has applied the log up to
// Index, a read issued with RequestCtx may be served linearizably.
type ReadState struct {
	Index      uint64
	RequestCtx []byte
}
