// Package harness runs simulations the way people use them: one seed with its checks and
// its evidence on failure, or a sweep of seeds on many workers. It sits outside the
// deterministic world (it uses goroutines, files and the wall clock) and nothing it does
// flows back into a run: every seed's outcome is a pure function of (seed, options, code).
package harness
