// Package rsm is a replicated state machine: raft (node/raft) with its write-ahead log on
// the component disk, a session table that makes client retries exactly-once, linearizable
// reads through ReadIndex, snapshots with log compaction and WAL rotation, and a client that
// finds the leader. It is a deterministic component (node/component): the simulator drives
// it today, the real host later, with any Application on top (a register, a log, the KV
// store).
//
// # Server
//
// Every input ends with the Ready loop (drive): a Ready's messages go out at once, its
// snapshot, entries and hard state are appended to the current WAL segment and synced;
// when Synced arrives, the acknowledgements raft held back (MessagesAfterSync) go out, the
// committed entries are applied, read states are served and Advance runs. One Ready is in
// flight at a time, so every proposal that arrives during a sync joins the next one: many
// proposals per fsync.
//
// Writes are proposed only by the leader (others redirect the client). Each proposal
// carries (client, seq); applying a command already in the session table returns the
// recorded result instead of running it twice. Reads get a ReadIndex round and are answered
// once the read index is applied.
//
// # Membership
//
// The server keeps a replicated member table (Member: ID, name, peer URLs, learner),
// seeded from Config.Members and changed by conf-change entries. ProposeConfChange (or a
// ConfChangeRequest, which non-leaders redirect like a write) validates a change against
// the table, as etcd does (ID or peer URL exists, not found, promote a non-learner or a
// learner not within 90% of the leader's log), and proposes it with the whole table after
// the change as the entry's raft.ConfChange.Context. Applying the entry replaces the table
// with that context, so every server, also one that joined with no configuration and never
// saw the initial one, gets the table from its own addition on. Because the table is
// computed at proposal, a leader refuses a new change (ErrConfChangePending) while a
// committed change is not yet applied here; raft refuses one while a change is uncommitted.
// The table is part of snapshot data (behind a marker, before the sessions; a server with
// no table writes snapshots exactly as before, so the simulator's traces are unchanged).
// Applying a change emits the notice MembersChanged (and MemberRemoved for another
// member's removal); a server that applies its own removal halts with ReasonRemoved two
// election timeouts later. MembersRequest reads the table linearizably. A leader stops
// replicating to a removed member as soon as the removal is appended, so the removed
// member may never apply it: every server that applies it sends the removed one a
// RemovedNotice, which starts the same way out. Servers with a name or client URLs
// announce them to the other members (Announce).
//
// The front (front.go): callers attached to a server (a real member's gRPC clients, or
// simulated clients of one server) send Calls; the server runs each under its own
// session, forwarding to the leader, holding while none is known, resending unanswered
// ones with the same (session, seq), and answers each once. Sessions allow several
// outstanding commands per client (Request.Ack is the client's floor), so a real
// member's concurrent requests are applied at most once like a simulated client's.
//
// A WAL record that fails its checksum means the node lost something it had synced (a vote,
// an acknowledged entry). The server then refuses to run — as etcd refuses to start on a
// corrupt WAL — rather than rejoin with a forgotten vote. The simulator corrupts at most one
// node per run, so the cluster keeps a quorum.
package rsm
