package rsm

import "github.com/orrery/orrery/node/bugs"

// BugStaleRead makes every server, leader or not, answer reads at once from its applied
// state, skipping the redirect to the leader and the ReadIndex round. etcd calls such reads
// serializable and documents them as possibly stale; served as linearizable reads they
// break linearizability whenever a follower lags.
const BugStaleRead = "kv.stale-read"

// Bugs is the catalog of this package's planted bugs.
var Bugs = bugs.Catalog{{
	Name: BugStaleRead,
	Description: "reads are answered by whichever server the client asked, from its applied " +
		"state, without the ReadIndex round: a lagging follower serves stale values",
}}
