package raft

import "github.com/orrery/orrery/node/bugs"

// Names of the planted bugs this package understands.
const (
	BugCommitOldTerm     = "raft.commit-old-term"
	BugVoteTwice         = "raft.vote-twice"
	BugAckBeforeSync     = "raft.ack-before-sync"
	BugReadWithoutQuorum = "raft.read-without-quorum"
)

// Bugs is the catalog of planted bugs. Config.Bugs switches them on; the zero Set is correct.
var Bugs = bugs.Catalog{
	{
		Name: BugCommitOldTerm,
		Description: "a leader advances its commit index over an entry of an earlier term as soon " +
			"as a majority stores it (raft paper figure 8); a later leader can overwrite that " +
			"'committed' entry: committed entries change or vanish",
	},
	{
		Name: BugVoteTwice,
		Description: "the vote is neither persisted (HardState.Vote stays 0) nor synced before the " +
			"vote response is sent (it goes out in Messages); after a crash and restart a node can " +
			"vote again in the same term: two leaders in one term",
	},
	{
		Name: BugAckBeforeSync,
		Description: "append acknowledgements go out in Messages, before the entries are synced; " +
			"a crash loses entries the leader counted towards a quorum: committed entries vanish",
	},
	{
		Name: BugReadWithoutQuorum,
		Description: "a leader answers ReadIndex at once with its commit index, without confirming " +
			"its leadership with a heartbeat round; a deposed leader serves stale reads: " +
			"linearizability violation (a read index below an index committed before the read)",
	},
}
