// Package raft is the raft consensus core of Orrery: a pure, thread-unsafe state machine
// in the "sans-I/O" style. It never performs I/O, reads no clock, starts no goroutine and
// draws randomness only from the *rand.Rand it is given, so a seeded simulator and a real
// host can drive the same code.
//
// # Overview
//
// A Node takes inputs — Step(msg) for messages from peers, Tick() for the passage of
// time, Propose, ProposeConfChange, ReadIndex, TransferLeader and Campaign for local
// requests — and answers with effects, collected in a Ready: entries and hard state to
// persist, a snapshot to install, committed entries to apply, read states to serve and
// messages to send. It implements leader election with randomized timeouts (drawn from
// [ElectionTick, 2*ElectionTick)), PreVote, CheckQuorum, log replication with batching,
// pipelining and flow control (probe, replicate and snapshot progress states, in-flight
// limits by count and bytes), fast log backtracking, snapshots, linearizable ReadIndex
// reads, leadership transfer and single-server membership changes with learners.
//
// # Driver protocol
//
// The driver owns the Storage (the read side raft sees; MemoryStorage also offers the
// write side) and runs this loop. Step, Tick and the requests may be called at any time,
// also between Ready and Advance; their effects go into the next Ready:
//
//	for {
//		// inputs: n.Tick() on every tick, n.Step(m) for every message received,
//		// n.Propose(data), n.ReadIndex(ctx), ... for local requests
//		if !n.HasReady() {
//			continue
//		}
//		rd := n.Ready()
//		send(rd.Messages)                 // 1. may leave at once (a leader's appends)
//		if !rd.Snapshot.IsEmpty() {       // 2. write
//			storage.ApplySnapshot(rd.Snapshot)
//			app.Restore(rd.Snapshot)
//		}
//		storage.Append(rd.Entries)
//		if !rd.HardState.IsEmpty() {
//			storage.SetHardState(rd.HardState)
//		}
//		if rd.MustSync {
//			disk.Sync()                   // 3. make it durable
//		}
//		send(rd.MessagesAfterSync)        // 4. only now: votes and append acks
//		app.Apply(rd.CommittedEntries)    // 5. in order; then serve rd.ReadStates once
//		                                  //    applied >= ReadState.Index
//		n.Advance()                       // 6. the Ready is done
//	}
//
// Write Entries before HardState: a crash may keep any prefix of a Ready's writes, but
// never a commit index without the entries it covers. Ready must not be called again
// before Advance. Advance is also the "persisted up to"
// input: it tells raft that the Ready's entries are durable, so that a leader may count
// itself towards the quorum for them. To compact the log, the application snapshots its
// state at an applied index i and calls storage.CreateSnapshot(i, cs, data) with
// cs from n.ConfStateAt(i), then storage.Compact(i). After a crash the driver builds a
// new Node with NewNode on the storage's durable contents (passing the same Peers for a
// bootstrapped cluster that has no snapshot yet, and Applied if the application state
// survived). Status describes the node for tests and tooling; Message.String and
// Entry.String print compactly for traces.
//
// # Durability rules
//
// Term, vote and log entries are persisted and synced before the node sends a vote, a
// vote request (which carries its own vote) or an append acknowledgement: those messages
// are in MessagesAfterSync. More generally no message leaves in a term that is not yet
// durable (a single-voter leader elects itself without sending a vote). A leader may send
// appends (Messages) before its own entries are durable, but it counts itself in a quorum
// only for entries reported durable by Advance. The commit index in HardState need not be
// synced (MustSync ignores it): it is learned again after a crash, and a new leader serves
// reads and accepts membership changes only after committing an entry of its own term.
//
// # Membership changes
//
// Changes are made one server at a time (add a voter, add a learner, promote a learner,
// remove a member), not with joint consensus: any two majorities of configurations that
// differ by one voter intersect, which is all the safety argument needs, and it keeps the
// code and its tests small. As in the raft dissertation (§4.1), a configuration takes
// effect on each node as soon as its entry is appended to the log, not when it commits,
// and is undone if the entry is overwritten. The guards that make this safe are enforced by
// the leader: only one uncommitted change at a time, and a new leader must commit an entry
// of its own term before proposing a change (the fix for the single-server-change bug
// described on the raft-dev list). Each EntryConfChange carries the change and the full
// resulting configuration (EncodeConfChange), so every node knows the configuration at
// each index of its log, even one that joined late. The driver does not call anything when
// it applies a conf-change entry: raft has already applied it internally; the application
// may decode it (DecodeConfChange) to update its own view of the membership; a change's
// Context, opaque to raft, carries the application's data about it (node/rsm puts the
// member table with names and peer URLs there). For snapshots
// it asks ConfStateAt(applied). A leader whose removal commits steps down; a removed or
// learner node never campaigns.
//
// # Planted bugs
//
// Config.Bugs switches on deliberate bugs from the Bugs catalog so that the simulator's
// power to find them can be measured. The zero value is correct code.
//
// # Tests
//
// testdata/*.txt are data-driven interaction scripts (go test ./node/raft -run
// TestInteraction -rewrite refreshes their output); testdata/bugs/*.txt replay the same
// kind of scenario with a planted bug on and must report a VIOLATION. TestRandomizedSafety
// runs seeded worlds with message loss, duplication and reordering, partitions, crashes
// that lose unsynced writes, compaction and membership changes, and checks election
// safety, log matching, leader completeness, stability of committed entries, read
// linearizability and convergence after healing; -raft.seeds=N runs more seeds and
// -raft.seed=N replays one.
package raft
