// Package register is a multi-writer ABD atomic register (Attiya, Bar-Noy, Dolev 1995;
// Lynch and Shvartsman's multi-writer variant) written as deterministic components: a
// Replica server and a Client coordinator. It is the worked example of Orrery's component
// contract and the first workload the simulator checks for linearizability.
//
// # Protocol
//
// Every key holds a (timestamp, value) pair on each replica; timestamps are (counter,
// writer) pairs ordered lexicographically, so concurrent writers never tie.
//
//   - put(k, v): query a majority for their timestamps of k, pick (max.counter+1, me), then
//     store (ts, v) on a majority.
//   - get(k): query a majority for (ts, v) of k, take the largest, write it back to a
//     majority, then return v. The write-back is what makes reads atomic: without it a read
//     can return a value that a later read, served by a different majority, no longer sees.
//
// Clients resend to replicas that have not answered, so lost or duplicated messages only
// delay an operation; every request is idempotent.
//
// # Durability
//
// A replica acknowledges a store only after the record reaches disk (Append, then Sync, then
// the ack on Synced): an acknowledged write survives a crash. A replica whose disk reports a
// corrupt record (bit-rot of data it once synced) has lost writes it acknowledged; it stops
// serving, fetches the state of a majority of the other replicas, persists the merge and only
// then serves again. Merging by largest timestamp is idempotent, so a crash in the middle of
// recovery is harmless. A failed fsync halts the replica: after a write-back error the page
// cache can no longer be trusted.
//
// # Planted bug
//
// register.skip-writeback makes get return after the query phase, without the write-back.
package register
