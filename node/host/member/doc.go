// Package member runs one Orrery member on a real machine: the same deterministic server
// the simulator drives (node/rsm with node/kvserver), here driven by wall-clock timers,
// a bbolt disk (node/host/disk) and the TCP peer transport (transport/tcp).
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
package member
