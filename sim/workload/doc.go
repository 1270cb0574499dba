// Package workload holds the simulator's built-in workloads: each one wires deterministic
// components into a sim.System, says what its clients do and which checker model judges the
// history. `orrery sim run --workload NAME` looks them up here.
package workload
