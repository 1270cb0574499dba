// Package abd shows how a team tests its own deterministic component with Orrery's simulator,
// using only the public API: it wires the ABD register of node/register into a sim.System,
// gives it a workload, and sweeps seeds with sim/simtest. docs/framework.md walks through it.
package abd
