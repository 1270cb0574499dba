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
// A WAL record that fails its checksum means the node lost something it had synced (a vote,
// an acknowledged entry). The server then refuses to run — as etcd refuses to start on a
// corrupt WAL — rather than rejoin with a forgotten vote. The simulator corrupts at most one
// node per run, so the cluster keeps a quorum.
package rsm
