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
// The driver owns the Storage (the read side raft sees, e.g. MemoryStorage) and runs this
// loop; Step, Tick and the requests may be called at any time between the steps:
//
//	for {
//		// feed inputs: n.Tick() on every tick, n.Step(m) for every message received
//		if !n.HasReady() {
//			continue
//		}
//		rd := n.Ready()
//		send(rd.Messages)                  // 1. may go out at once
//		if !rd.Snapshot.IsEmpty() {        // 2. persist
//			storage.ApplySnapshot(rd.Snapshot)
//			app.Restore(rd.Snapshot)
//		}
//		storage.Append(rd.Entries)
//		if !rd.HardState.IsEmpty() {
//			storage.SetHardState(rd.HardState)
//		}
//		if rd.MustSync {
//			disk.Sync()                    // 3. make it durable
//		}
//		send(rd.MessagesAfterSync)         // 4. only now: votes and append acks
//		app.Apply(rd.CommittedEntries)     // 5. apply in order, serve rd.ReadStates
//		n.Advance()                        // 6. the Ready is done
//	}
//
// Ready must not be called again before Advance. Advance is also the "persisted up to"
// input: it tells raft that the Ready's entries are durable, so that a leader may count
// itself towards the quorum for them.
//
// # Durability rules
//
// Term, vote and log entries are persisted and synced before the node sends a vote, a
// vote request (which carries its own vote) or an append acknowledgement: those messages
// are in MessagesAfterSync. A leader may send appends (Messages) before its own entries are
// durable, but it counts itself in a quorum only for entries reported durable by Advance.
// The commit index in HardState need not be synced (MustSync ignores it): it can be
// learned again. After a crash the driver restarts the node with NewNode on the storage's
// durable contents (and the same Peers for a bootstrapped cluster without a snapshot).
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
// may decode it (DecodeConfChange) to update its own view of the membership. For snapshots
// it asks ConfStateAt(applied). A leader whose removal commits steps down; a removed or
// learner node never campaigns.
//
// # Planted bugs
//
// Config.Bugs switches on deliberate bugs from the Bugs catalog so that the simulator's
// power to find them can be measured. The zero value is correct code.
package raft
