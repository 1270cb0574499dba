// Package kvserver is the etcd-like member's application: the MVCC store (node/kv) behind
// the replicated state machine (node/rsm), with the leader's Lessor and the client
// protocol. It is a deterministic component piece; the simulator and the real host drive
// it the same way, through rsm.Server.
//
// # Protocol
//
// A client sends an rsm.Request whose payload is:
//   - a write: kv.Command.Encode, replicated through raft; the result is kv.EncodeReply;
//   - a linearizable query (Read): kv.Query.Encode, served after a ReadIndex round on the
//     leader; the result is kv.Answer.Encode;
//   - a serializable query (Local): the same, served by whichever member receives it, from
//     its applied state, possibly stale (etcd's serializable reads);
//   - a watch (Stream): kv.EncodeWatchRequest; the member pushes kv.EncodeWatchResponse
//     batches for as long as the stream lives (one watch per client and member).
//
// # Leases
//
// Grants, revocations and expiries are commands; deadlines live in each member's Lessor,
// in its local clock, and only the leader's counts. Keep-alives are queries that go
// through ReadIndex, like etcd 3.5's ensureLeadership: a leader that was deposed without
// knowing it cannot renew a lease the new leader is about to expire, so every renewal a
// client sees happened while its member still led. The leader proposes expiries (Due) as
// one LeaseExpire command per tick, and does not propose a lease again within
// expiryRetry. A new leader extends every lease to now+TTL; kv's package doc says why that
// is the safe choice, and kv.lease-early plants the unsafe one.
package kvserver
