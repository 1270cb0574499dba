// Package sim is Orrery's deterministic simulator: one goroutine runs a whole cluster of
// deterministic components (package node/component) in virtual time, with a simulated
// network, disks and clocks, and faults drawn from a seed.
//
// A run is a pure function of (seed, options, code). Every random choice comes from a PCG
// stream derived from the seed — one stream per concern (network, nemesis, disk, clocks,
// workload, and one per node incarnation), so that a change in how often one concern draws
// does not shift the others. Events run in (virtual time, sequence) order. Every input a
// component receives and every effect it returns is hashed (SHA-256 over a fixed-width
// encoding) into the trace hash: the same seed must print the same hash.
//
// # What a world simulates
//
//   - Network: a base latency per directed link plus jitter; during the fault phase message
//     loss, duplication, reordering (extra random latency) and rare long delays; partitions
//     between servers (halves, one node, minority, majorities ring, bridge, one-way) and
//     heal. Clients stand outside the partitioned network, as in Jepsen.
//   - Processes: crash (memory and timers lost), restart, pause (inputs held until resume,
//     like SIGSTOP), and Halt (a component crashing itself).
//   - Disks: appends are buffered until a Sync completes; a crash keeps a seeded prefix of
//     the unsynced writes and may tear the last one. Records are framed with a CRC-32C, so
//     torn tails and bit-rot of synced data (on one node per seed) are detected and
//     reported in component.Recovery, never served. fsync can fail, losing part of the
//     writes it covered, as Linux does after a write-back error.
//   - Clocks: per-server offset and drift, and forward jumps; components see their local
//     time in every Handle call and timers run on local time.
//
// # Phases
//
// During the fault phase clients perform Options.Ops operations while the nemesis injects
// the seed's fault mix (swarm testing: each seed draws its own subset and intensities).
// Then every fault is undone — partitions healed, crashed servers restarted, paused ones
// resumed, links reliable — and each client performs one final operation that must complete
// within Options.Liveness; otherwise the Result carries a liveness failure.
//
// # Using it
//
// Describe what runs as a System (server and client factories, a workload Generator, the
// checker model) and call Run. Package sim/harness adds checking, evidence and parallel
// sweeps; sim/simtest wraps that for go test; sim/workload holds the built-in workloads.
package sim
