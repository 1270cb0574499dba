// Package kv is Orrery's replicated key-value state machine: etcd v3's MVCC store with
// range, put, delete, txn, compaction, watches and leases, as a pure, deterministic
// component. It reads no clock, starts no goroutine and never lets map order reach its
// output, so every replica that applies the same commands ends in byte-identical state.
//
// # Overview
//
// A Store holds a global revision (1 when empty; every command that changes something
// consumes exactly one), each key's history of versions and tombstones since the last
// compaction, the leases (ID, granted TTL, attached keys) and the client dedup table.
// Requests and responses mirror etcdserverpb with plain Go types and follow etcd v3
// semantics, including the error texts (see errors.go), so that a gRPC layer can translate
// one to one.
//
// # How the node drives the store
//
// Writes are Commands. The node encodes one (Command.Encode), proposes the bytes to raft,
// and every replica applies the committed entries in log order:
//
//	cmd, err := kv.DecodeCommand(entry.Data)   // an error means a corrupt entry
//	res := store.Apply(cmd)                    // response or error, events, lease changes
//	lessor.Observe(res, now)                   // keep lease deadlines in step
//	// the proposing node answers its client with res.Response / res.Err
//	for _, wr := range store.Watches().Take() { ... send to the watch stream ... }
//
// Command.Validate runs etcd's request checks before proposing (Apply repeats them, so a
// command is refused identically everywhere). Reads (Range, ReadTxn for txns without
// writes) are served from the local store: directly when serializable, after the raft read
// index is applied when linearizable. Snapshot and Restore move the whole replicated state;
// HashKV compares replicas like etcd's HashKV.
//
// # Watches
//
// WatchHub (Store.Watches) is local to a replica. A watcher is a cursor into the store's
// revision log: Take returns, per watcher, every event from its cursor up to the current
// revision (filtered by range, NoPut and NoDelete, with PrevKV if asked), in revision order
// and never splitting a revision across responses, then any owed progress notification.
// A watcher starting in the past replays history the same way; one whose cursor falls
// below the compaction revision gets a response with CompactRevision set and is cancelled.
// The driver calls Take after applying a batch of entries.
//
// # Leases and expiry
//
// Granting, revoking and expiring leases are commands; the lease ID, TTL and attached keys
// are replicated. When a lease expires is not: the leader's Lessor keeps each lease's
// deadline in the leader's local clock (time arrives as a `now` value), renews it on
// keep-alive (Renew, answered by the leader alone, without raft) and reports expired
// leases (Expired), which the leader proposes as one LeaseExpire command. Every node keeps
// a Lessor in step with its store (Observe after Apply, Reset after Restore); only the
// leader's is primary.
//
// A newly elected leader calls Promote(now), which extends every lease to now+TTL. It has
// to pick some deadline: keep-alives are answered by the leader alone, so the new leader
// does not know when each lease was last renewed. Keeping the deadlines it happens to hold
// (set when it applied the grant, or at its own last promotion) would be unsafe: it could
// expire a lease that a client renewed a moment ago, and the client, promised TTL seconds,
// would lose its keys while it still believes it holds them (a lock holder losing its
// lock). Extending is safe because every renewal the old leader granted happened before
// the new leader took over, i.e. before now, so every deadline it promised is at most
// now+TTL (in real time; clock drift over one TTL aside): the new deadline is never
// earlier than a promise. The cost is bounded: a lease whose client died may live up to
// one extra TTL (plus the election time) after a leader change. Expiry can be late, never
// early; etcd's lessor Promote makes the same trade. The minimum TTL (Config.MinLeaseTTL,
// like etcd's 1.5 election timeouts) keeps a lease from expiring during an election.
//
// # Deduplication
//
// A command may carry a request identity (ClientID, Seq). A client has one request in
// flight and numbers them upwards, so the store keeps only each client's latest Seq and
// response: applying that Seq again (a retry after a lost reply or a leader change that
// re-proposed it) returns the recorded response without executing; an older Seq is refused
// with ErrStaleRequest (the client has given up on it, and executing it late would reorder
// its writes). The table is replicated state and is part of snapshots.
//
// # Planted bugs
//
// Config.Bugs switches on the bugs in Bugs (kv.watch-skip), for measuring the checkers.
package kv
