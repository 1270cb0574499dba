package raft

import (
	"fmt"
	"strconv"
	"strings"
)

var msgTypeNames = [...]string{
	MsgProp: "MsgProp", MsgApp: "MsgApp", MsgAppResp: "MsgAppResp", MsgVote: "MsgVote",
	MsgVoteResp: "MsgVoteResp", MsgPreVote: "MsgPreVote", MsgPreVoteResp: "MsgPreVoteResp",
	MsgSnap: "MsgSnap", MsgHeartbeat: "MsgHeartbeat", MsgHeartbeatResp: "MsgHeartbeatResp",
	MsgTimeoutNow: "MsgTimeoutNow", MsgReadIndex: "MsgReadIndex",
	MsgReadIndexResp: "MsgReadIndexResp", MsgTransferLeader: "MsgTransferLeader",
}

func (t MessageType) String() string {
	if int(t) < len(msgTypeNames) && msgTypeNames[t] != "" {
		return msgTypeNames[t]
	}
	return "MsgType(" + strconv.Itoa(int(t)) + ")"
}

func (t EntryType) String() string {
	switch t {
	case EntryNormal:
		return "EntryNormal"
	case EntryConfChange:
		return "EntryConfChange"
	}
	return "EntryType(" + strconv.Itoa(int(t)) + ")"
}

func (r Role) String() string {
	switch r {
	case RoleFollower:
		return "Follower"
	case RolePreCandidate:
		return "PreCandidate"
	case RoleCandidate:
		return "Candidate"
	case RoleLeader:
		return "Leader"
	}
	return "Role(" + strconv.Itoa(int(r)) + ")"
}

// String prints an entry as "term/index type data", e.g. `2/6 EntryNormal "x"`.
func (e Entry) String() string {
	s := fmt.Sprintf("%d/%d %s", e.Term, e.Index, e.Type)
	if e.Type == EntryConfChange {
		if ccs, err := DecodeConfChange(e.Data); err == nil {
			return s + " " + ccs.String()
		}
	}
	if len(e.Data) > 0 {
		s += " " + strconv.Quote(string(e.Data))
	}
	return s
}

// String prints the message compactly, e.g.
// `1->2 MsgApp Term:2 Log:1/5 Commit:5 Entries:[2/6 EntryNormal "x"]`.
func (m Message) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d->%d %s Term:%d", m.From, m.To, m.Type, m.Term)
	if m.Type == MsgApp || m.LogTerm != 0 || m.Index != 0 || m.Type == MsgVote || m.Type == MsgPreVote {
		fmt.Fprintf(&b, " Log:%d/%d", m.LogTerm, m.Index)
	}
	if m.Commit != 0 {
		fmt.Fprintf(&b, " Commit:%d", m.Commit)
	}
	if m.Reject {
		fmt.Fprintf(&b, " Rejected (Hint: %d)", m.RejectHint)
	}
	if len(m.Entries) > 0 {
		b.WriteString(" Entries:[")
		for i, e := range m.Entries {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(e.String())
		}
		b.WriteString("]")
	}
	if m.Snapshot != nil {
		fmt.Fprintf(&b, " Snapshot:%s", m.Snapshot.Metadata)
	}
	if len(m.Context) > 0 {
		fmt.Fprintf(&b, " Context:%q", m.Context)
	}
	return b.String()
}

// String prints the metadata as "Index:i Term:t ConfState:...".
func (md SnapshotMetadata) String() string {
	return fmt.Sprintf("Index:%d Term:%d ConfState:%s", md.Index, md.Term, md.ConfState)
}

// String prints "Term:t Vote:v Commit:c".
func (h HardState) String() string {
	return fmt.Sprintf("Term:%d Vote:%d Commit:%d", h.Term, h.Vote, h.Commit)
}

// String prints "Lead:l Role:r".
func (s SoftState) String() string { return fmt.Sprintf("Lead:%d Role:%s", s.Lead, s.Role) }

// String prints "Voters:(1 2 3) Learners:(4)".
func (c ConfState) String() string {
	return "Voters:" + idList(c.Voters) + " Learners:" + idList(c.Learners)
}

func idList(ids []uint64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatUint(id, 10)
	}
	return "(" + strings.Join(parts, " ") + ")"
}

// DescribeEntries prints one entry per line.
func DescribeEntries(ents []Entry) string {
	var b strings.Builder
	for _, e := range ents {
		b.WriteString(e.String())
		b.WriteString("\n")
	}
	return b.String()
}
