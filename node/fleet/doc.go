// Package fleet is Orrery's cluster init system, after CoreOS fleet: systemd-style unit
// files with an [X-Fleet] section of placement constraints are stored in the KV store, a
// leader-elected engine places them on machines, and an agent on every machine runs what is
// placed there.
//
// This package holds the deterministic parts, which the simulator and real hosts share:
//
//   - the unit model (unit.go): a unit file parsed with go-systemd's unit package (no
//     parser of our own), its name checked (type suffix, template and instance), its
//     [X-Fleet] options validated and read into Constraints, and its content hash, the
//     SHA-1 of the serialized options as fleet computed it, so fleetctl's HASH column and
//     ours agree for the same file;
//   - the scheduler (schedule.go): a pure function from live machines, units and globals
//     to one engine pass's plan: units that may not stay leave (target inactive, machine
//     gone, a constraint no longer holds), then each waiting unit goes to the least loaded
//     machine that takes it, ties to the lower machine ID, as fleet's engine did; a unit
//     no machine takes is reported with each machine's reason instead of waiting silently
//     (fleet #1348), and X-Orrery-CPU/Memory are held against declared capacity (#1217).
//
// Errors name the file, the line and the option at fault: a bad unit is refused before
// anything is stored.
package fleet
