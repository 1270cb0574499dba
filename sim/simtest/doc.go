// Package simtest runs your own deterministic components through Orrery's simulator from
// `go test`: a sweep of seeds, every fault on, each history checked for linearizability, and
// a failing seed reported with the exact command that replays it.
//
//	func TestMyStore(t *testing.T) {
//		simtest.Sweep(t, mySystem(), simtest.Config{Seeds: 200})
//	}
//
// A failure prints the seed and `go test -run '^TestMyStore$' -orrery.seed=N`, which re-runs
// only that seed (add -orrery.trace to print every event). See docs/framework.md.
package simtest
