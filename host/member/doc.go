// Package member runs one Orrery member on a real machine: the same deterministic server
// the simulator drives (node/rsm with node/kvserver), here driven by wall-clock timers,
// a bbolt disk (host/disk) and the TCP peer transport (host/tcp).
//
// One goroutine owns the server and executes its effects; syncs run on a second goroutine
// in order, so a leader's appends reach the followers while its own fsync runs, and every
// proposal that arrives during a sync joins the next one (group commit).
//
// Client requests (from the gRPC layer) enter as rsm requests from fresh client IDs whose
// high bits name this member. A member that is not the leader answers with a redirect;
// the request is then forwarded over the peer transport to the leader, whose reply is
// routed back by those high bits. Only redirects are retried: they mean "not proposed".
// A request that times out is reported as such; its outcome is unknown, as with etcd.
//
// Membership (API's etcdapi.MemberChanger). MemberAdd draws a random ID below 2^24 (client
// IDs carry the member ID in their top 24 bits) and sends a rsm.ConfChangeRequest, which is
// forwarded to the leader like a write; the answer is the leader's table after the change
// applied. MemberList reads the table from the leader (rsm.MembersRequest). When the table
// changes, new members become transport peers; a removed one is sent a removal notice
// (the leader stopped replicating to it, so it may never apply its removal) and dropped
// after a grace period of two election timeouts, which a removed member also runs for
// before it stops, so that its last answers leave. A joining member (Config.Join, an empty
// data dir) asks the members' peer ports for the table (tcp.Query), finds its ID by its
// peer URL and starts raft with no configuration; the leader's appends or snapshot bring
// it the log and, with its own addition's entry, the table. The data dir records the
// member's identity (file "member": ID, cluster ID, initial members, and a joiner's view of
// the cluster when it joined), so restarts do not depend on --initial-cluster.
package member
