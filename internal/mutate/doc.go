// Package mutate measures how many realistic bugs Orrery's simulator sweeps catch.
//
// It is host tooling, not a deterministic component: it parses a package's non-test
// files (go/ast with go/types from golang.org/x/tools/go/packages), enumerates mutants —
// small, compilable changes such as `<` to `<=`, `&&` to `||`, a negated if condition or a
// removed call — and runs each one without touching the source tree: the mutated file is
// written to a temporary directory and handed to the go tool with -overlay.
//
// A mutant is killed by a sweep when `orrery sim sweep`, built with the overlay, finds a
// safety or liveness violation, a panic, or hangs; mutants the sweeps miss are run against
// the package's own tests. What neither catches survived. The score is the share of the
// compiled, non-equivalent mutants the sweeps kill.
//
// Mutant IDs are stable: file.go:line:col:operator, with the position of the mutated token
// in the unmodified file. The same source always yields the same mutants in the same order.
//
// Example:
//
//	muts, err := mutate.Generate("node/raft")
//	// handle err
//	pkgs := []mutate.Package{{Dir: "node/raft", Workloads: mutate.DefaultWorkloads["node/raft"],
//		Mutants: mutate.Sample(muts, 30, 1), Total: len(muts)}}
//	rep, err := mutate.Run(ctx, mutate.Config{Module: root, Seeds: "1-300", Jobs: 1, SweepJobs: 2}, pkgs)
//	// handle err
//	rep.WriteTable(os.Stdout)
//
// `orrery mutate` and `make mutate` are the command-line front.
package mutate
