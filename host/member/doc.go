// Package member runs one Orrery member on a real machine: the same deterministic server
// the simulator drives (node/rsm with node/kvserver) on the generic host driver
// (host/driver: wall-clock timers, syncs in order on a second goroutine, group commit),
// a bbolt disk (host/disk) and the peer link (host/peer, over host/tcp). It is an assembly
// and makes no protocol decision; the pieces are:
//
//   - requests: callers on this host reach the server's front through host/front; the
//     etcd gRPC API is host/etcdapi over host/etcdapi/memberapi;
//   - peers: every message members exchange is an rsm message (rsm.EncodeMessage); the
//     link frames it, drops frames from senders outside the cluster and follows the
//     member table the server announces (rsm.MembersChanged, rsm.MemberRemoved);
//   - identity: the data dir records the member's rsm.Identity (file rsm.IdentityFile:
//     ID, cluster ID, initial members, and a joiner's view of the cluster when it joined),
//     so restarts do not depend on --initial-cluster. A joining member (Config.Join, an
//     empty data dir) runs rsm's Joiner through peer.Join, which asks the members' peer
//     ports for the table and finds the member's ID by its peer URL; raft then starts with
//     no configuration, and the leader's appends or snapshot bring the log and the table.
package member
