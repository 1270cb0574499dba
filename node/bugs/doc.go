// Package bugs names the planted bugs that deterministic components can switch on.
//
// A planted bug is a deliberate, named deviation from correct behaviour (for example
// "register.skip-writeback" or "raft.commit-old-term"). Components accept a Set; the zero Set
// means correct code. The simulator turns bugs on with --bug NAME and measures how many seeds
// it needs to catch each one: that count is our yardstick for the simulator's power.
//
// Each component declares its own bugs as a Catalog next to the code they affect, so that a
// bug's name, its component and its description live in one place.
package bugs
