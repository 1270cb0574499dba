package rsm

import "github.com/orrery/orrery/node/bugs"

// BugStaleRead makes every server, leader or not, answer reads at once from its applied
// state, skipping the redirect to the leader and the ReadIndex round. etcd calls such reads
// serializable and documents them as possibly stale; served as linearizable reads they
// break linearizability whenever a follower lags.
const BugStaleRead = "kv.stale-read"

// BugForwardTwice makes a server resend a caller's write that got no answer under a new
// sequence number instead of its own, as if the resend were a new command: when the first
// copy was applied after all (its answer was lost or slow), the write applies twice.
const BugForwardTwice = "rsm.forward-twice"

// BugSnapshotDropsMembers leaves the member table out of snapshots: a server that
// restarts from one, or is sent one, goes back to the table it was configured with until
// the next membership change applies, and as leader computes changes from it.
const BugSnapshotDropsMembers = "rsm.snapshot-drops-members"

// Bugs is the catalog of this package's planted bugs.
var Bugs = bugs.Catalog{{
	Name: BugStaleRead,
	Description: "reads are answered by whichever server the client asked, from its applied " +
		"state, without the ReadIndex round: a lagging follower serves stale values",
}, {
	Name: BugForwardTwice,
	Description: "a server resends an unanswered write of its callers under a new sequence " +
		"number, so the session table cannot tell it from a new command: a forwarded write applies twice",
}, {
	Name: BugSnapshotDropsMembers,
	Description: "snapshots omit the member table, so a server restored from one serves and " +
		"changes the table it was started with: members added or removed since are forgotten",
}}
