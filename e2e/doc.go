// Package e2e holds Orrery's end-to-end tests: the stock etcd client
// (go.etcd.io/etcd/client/v3) against real multi-member clusters on loopback.
//
// Three kinds of cluster are used:
//
//   - in-process clusters started with daemon.Start (api_test.go, robust_test.go): every
//     etcd v3 API a client library relies on, forwarding from followers, damaged peer
//     traffic, oversized requests and a damaged data dir;
//   - `orrery node` processes built from ./cmd/orrery and killed with SIGKILL while
//     writers run (crash_test.go): acknowledged writes survive and members converge;
//   - the stock etcdctl against `orrery cluster up` (scripts/etcdctl-check.sh, run by
//     TestEtcdctlCheck only when ORRERY_ETCDCTL_CHECK=1, or by `make etcdctl-check`).
//
// The package has no non-test code; `go test ./e2e/` runs it and stays well under a
// minute on two cores.
package e2e
