package kv

import "github.com/orrery/orrery/node/bugs"

// Names of the planted bugs this package understands.
const (
	BugWatchSkip = "kv.watch-skip"
)

// Bugs is the catalog of planted bugs. Config.Bugs switches them on; the zero Set is correct.
var Bugs = bugs.Catalog{
	{
		Name: BugWatchSkip,
		Description: "a watcher whose start revision lies in the past drops the first event of every " +
			"replayed revision that has more than one event for it (a multi-key txn or delete); " +
			"reads and writes are unaffected, only a watch checker sees the gap",
	},
}
