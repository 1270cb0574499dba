// Package component defines the contract between a deterministic component and the world
// that drives it, in the "sans-I/O" style of etcd-raft's Ready/Advance.
//
// A Component is a state machine. The driver (the simulator in package sim, or the real
// host in host/) calls Handle with one Input at a time — a start with what the disk
// recovered, a message, a timer, a completed sync, a client request — and executes the
// Effects it returns: send a message, arm or cancel a timer, append a record, sync, answer a
// client, halt. A component never performs I/O, never reads a clock (the local time is passed
// in), never starts goroutines and never draws from global randomness (it receives its own
// seeded *rand.Rand when built). Because of that, the same component code runs unchanged in a
// seeded, replayable simulation and on a real machine, and never learns which one it is in.
//
// Durability is explicit: an Append is durable only once a later Sync has completed
// (Synced). A component that promises something to a peer or a client because of a write
// must wait for Synced first; the simulator loses unsynced writes on crash.
package component
