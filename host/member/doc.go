// Package member runs one Orrery member on a real machine: the same deterministic server
// the simulator drives (node/rsm with node/kvserver), here driven by wall-clock timers,
// a bbolt disk (host/disk) and the TCP peer transport (host/tcp).
//
// The member is an assembly: rsm.Server with the kvserver application on the generic
// host driver (host/driver), which owns the server on one goroutine, runs wall-clock
// timers, and syncs in order on a second goroutine (group commit). Every message members
// exchange is an rsm message (rsm.EncodeMessage); the member only frames it, and drops
// frames from senders outside the cluster.
//
// Client requests (from the gRPC layer) enter the server as rsm.Call inputs from
// driver.Local, numbered on the loop goroutine; the server runs them under its own
// session (rsm's front): it forwards writes and leader-only queries to the leader,
// serves linearizable reads after a read index, holds requests while no leader is known
// and resends unanswered ones with the same (session, seq), so the session table applies
// each write at most once. A request whose context ends is abandoned: the server answers
// that it never left (etcd's "no leader") or that its outcome is unknown (a timeout).
//
// Membership (API's etcdapi.MemberChanger). MemberAdd draws a random ID below 2^24 and sends a rsm.ConfChangeRequest, which is
// forwarded to the leader like a write; the answer is the leader's table after the change
// applied. MemberList reads the table from the leader (rsm.MembersRequest). When the table
// changes (rsm.MembersChanged), new members become transport peers; every member that
// applies a removal sends the removed one an rsm.RemovedNotice (the leader stopped
// replicating to it, so it may never apply its removal) and drops its peer after two
// election timeouts, which a removed server also runs for before it halts, so that its
// last answers leave. Members announce their names and client URLs (rsm.Announce). A joining member (Config.Join, an empty
// data dir) asks the members' peer ports for the table (tcp.Query), finds its ID by its
// peer URL and starts raft with no configuration; the leader's appends or snapshot bring
// it the log and, with its own addition's entry, the table. The data dir records the
// member's identity (file "member": ID, cluster ID, initial members, and a joiner's view of
// the cluster when it joined), so restarts do not depend on --initial-cluster.
package member
