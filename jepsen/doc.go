// Package jepsen attacks a real Orrery (or etcd) cluster running in network namespaces and
// checks its history with the same checkers as the simulator.
//
// This file documents the harness's infrastructure: the hosts, node control and the
// nemeses (cluster.go, up.go, process.go, leader.go, nemesis*.go and the subpackages netns
// and faultproxy).
//
// # Hosts
//
// Up makes, for a run with the random ID R (6 hex digits):
//
//	root namespace    ojRh  10.213.X.1/24        (the only change to the root namespace)
//	   | veth
//	ojR-br            bridge br0: ports "harness", "n1".."nN"
//	   | veth (one per node)
//	ojR-n1 .. ojR-nN  eth0 10.213.X.11, .12, ...  + lo
//
// X is random among the /24s of 10.213.0.0/16 that no root-namespace address or route
// touches. The harness process reaches every node through ojRh, so clientv3 runs in the
// harness unchanged; nothing is routed beyond the bridge. Each node runs as
// `ip netns exec ojR-nI BINARY node ...` with its client (2379), peer (2380) and metrics
// (2381, with --unsafe-fault-admin for orrery) listeners on its own address, its data dir
// in Options.Dir/nI and its stdout and stderr appended to Options.Dir/nI.log (marked with
// a line at each start and exit). Etcd (Options.EtcdBin) gets the same flags under etcd's
// names, plus a per-run --initial-cluster-token.
//
// # Peer links go through a fault proxy
//
// Every node's peer URL in --initial-cluster (and its --initial-advertise-peer-urls) is not
// its listener but a faultproxy.Proxy at its address, port 2390. The proxy is a goroutine of
// the harness whose sockets live in the node's namespace (netns.Listen and netns.Dial use
// setns on a locked thread), so a peer's connection arrives there with the peer's own
// source address, and the proxy forwards it over the namespace's own address to port 2380.
// Consequences:
//
//   - nftables rules in a node's namespace still see real peer addresses, so partitions and
//     loss need not know about the proxy; the proxy's hop to the member is local and never
//     matched.
//   - the clients (harness address 10.213.X.1) and the fault endpoints are never cut.
//   - killing a node leaves its proxy up: peers' connections are accepted and closed at once
//     because the upstream dial fails, just as a refused connection would end them.
//
// The proxy faults only the direction from the dialing peer to the member (Orrery's
// connections are one-way: a member only writes on connections it dialed). For orrery it
// parses the stream as host/tcp frames (uint32 length, CRC-32C, body; the first frame
// is the hello, which passes untouched) and may delay, duplicate or reorder whole frames,
// so the receiver's CRC check still passes and raft sees duplicated and reordered
// messages. For etcd (HTTP peer traffic) it only delays read-sized chunks, keeping order.
// Delays keep order (each unit's due time is at least the previous one's); a reordered
// frame gets extra delay without holding back those behind it.
//
// # Nemeses
//
// Nemeses(names...) returns them by name; "all" is every kind, in NemesisNames order.
// Partition and loss rules live in the nftables table TableName ("ojepsen", family ip) in
// every node's namespace, one base chain per kind ("partition", "loss" on the input hook),
// so faults of different kinds can overlap and each heals by flushing its own chain. The
// namespace takes the table with it when it is deleted. Every drop rule has a counter, so
// `nft list table ip ojepsen` in a node's namespace shows that a fault really drops packets.
//
//	partition-halves  a random minority | the rest, both ways
//	partition-leader  the leader (a random node without one) | the rest
//	partition-ring    Jepsen's majorities-ring: each node sees a majority, no two the same
//	partition-bridge  two halves, and one node in the middle that sees both
//	partition-oneway  one node (the leader half the time) drops the peer connections the
//	                  others open to it (tcp dport 2390), while its own connections to them,
//	                  and so what it sends, still work: with Orrery's one-way connections a
//	                  true one-way cut
//	kill              SIGKILL one node, the leader, a minority, a majority or all; Stop
//	                  starts every node that is not running, on its data dir
//	pause             SIGSTOP, chosen as kill does; Stop sends SIGCONT to every node
//	clock             skew a random node's clock by ±0.5..5s (orrery's POST clock=...);
//	                  Stop skews it back unless the process restarted meanwhile
//	loss              drop 5..30% of peer packets on every node (numgen random mod 100)
//	disk              stall every fsync of a random minority by 200ms..1s (stall=...);
//	                  Stop sets stall=0
//	fsync             the next fsync of a random node fails and the member halts
//	                  (failsync=1); Stop restarts it (killing it first if still armed)
//	delay             proxy: 10..100ms plus up to 50ms jitter on every peer link
//	duplicate         proxy: send 10..40% of peer frames twice (orrery only)
//	reorder           proxy: hold back 10..40% of frames by 5..50ms (orrery only)
//	member            member remove a random voter (unless fewer than a majority of the
//	                  nodes would stay voters) and keep its node down (Start is a no-op
//	                  for it, whoever restarts nodes); Stop adds it back as a new member:
//	                  member add as a learner, its process on an empty data dir (nI.K)
//	                  with --initial-cluster-state existing, member promote once caught up
//
// The member nemesis is of the process family (never in force with kill or pause) and
// heals last in its period: adding a member back needs a quorum that a partition or a
// halted node in force beside it may deny until it heals. After the faulty phase the
// runner reports any node still out of the cluster.
//
// Nemeses that etcd cannot take (clock, disk, fsync, duplicate, reorder) return an error
// wrapping ErrUnsupported from Start; Supported(n, c) tells beforehand, so a runner given
// "all" against etcd skips them.
//
// # Cleanup
//
// Close (and Up, when it fails half-way) SIGKILLs every node and waits for it, closes the
// status clients and the proxies, kills anything else left in the run's namespaces, deletes
// the namespaces (their veths, bridge and nftables tables go with them) and the root veth,
// and removes Options.Dir only if Up made it as a temp dir. Node processes also get
// PDEATHSIG=SIGKILL, so they die with a crashed harness. Create records the owner's PID in
// /run/orrery-jepsen/R.pid; every Up first sweeps namespaces and links named like ours
// (^ojR-(br|nI)$, ^ojRh$) whose owner process is gone, so a crashed run's leftovers are
// removed without touching a live run of another process.
//
// # Example
//
//	c, err := jepsen.Up(ctx, jepsen.Options{Nodes: 5, Binary: "bin/orrery", Dir: "results/x/nodes"})
//	if err != nil { ... }
//	defer c.Close()
//	nems, _ := jepsen.Nemeses("all")
//	for _, n := range nems {
//		if !jepsen.Supported(n, c) { continue }
//		desc, err := n.Start(ctx, c, r) // record desc in the history
//		...
//		err = n.Stop(ctx, c)
//	}
package jepsen
