package kv

import "github.com/orrery/orrery/node/bugs"

// Names of the planted bugs this package understands.
const (
	BugWatchSkip    = "kv.watch-skip"
	BugLeaseEarly   = "kv.lease-early"
	BugTxnNonAtomic = "kv.txn-nonatomic"
	BugWatchPrevKV  = "kv.watch-prevkv-self"
	BugStaleCompare = "kv.txn-stale-compare"
)

// Bugs is the catalog of planted bugs. Config.Bugs switches them on; the zero Set is correct.
var Bugs = bugs.Catalog{
	{
		Name: BugWatchSkip,
		Description: "a watcher whose start revision lies in the past drops the first event of every " +
			"replayed revision that has more than one event for it (a multi-key txn or delete); " +
			"reads and writes are unaffected, only a watch checker sees the gap",
	},
	{
		Name: BugLeaseEarly,
		Description: "a new leader keeps the lease deadlines it computed when it applied each grant " +
			"instead of extending them, so it expires leases its predecessor had kept alive: " +
			"a lease checker sees a lease revoked before the TTL a keep-alive promised",
	},
	{
		Name: BugTxnNonAtomic,
		Description: "a txn applies its operations one revision each instead of all at one " +
			"revision: a watcher or a read at an intermediate revision sees half a txn",
	},
	{
		Name: BugWatchPrevKV,
		Description: "a watch event's PrevKV is looked up at the event's own revision instead of the one " +
			"before: an update carries itself as its previous version, a delete its tombstone; every " +
			"watcher gets the same wrong stream, so only a check against the store's history sees it",
	},
	{
		Name: BugStaleCompare,
		Description: "a txn's compares read the store as of the revision before the current one (a read view " +
			"opened before the latest write), so a guard misses the write just before it: two optimistic txns " +
			"that read the same version both commit, and the first one's update is lost; a transactional " +
			"checker sees a lost append or two reads no order explains",
	},
}
