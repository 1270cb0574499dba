// Package etcdapi serves the etcd v3 gRPC API (go.etcd.io/etcd/api/v3 v3.7) on top of a
// Backend, so that stock etcdctl and clientv3 programs (and their concurrency recipes)
// work against an orrery member unchanged.
//
// # What the server does and what the Backend does
//
// The server speaks gRPC: it converts etcdserverpb requests to node/kv's types and back,
// fills every response header (cluster ID, member ID and raft term from Backend.Header,
// the revision from kv's response), maps kv's and the Backend's errors to the exact gRPC
// statuses etcd sends (clientv3 recognises its typed errors by the message), enforces
// etcd's request size limit (1.5 MiB: "etcdserver: request is too large", and the
// connection stays usable), refuses requests that require a leader when there is none,
// and runs the streams: a watch stream multiplexes many Backend.Watch channels with
// etcd's watch IDs, created/cancel responses, fragments and progress notifications; the
// keep-alive stream turns each request into a KeepAlive query.
//
// The Backend replicates writes, answers queries and watches its applied state
// (Backend's comment is the contract). Extra abilities are optional interfaces
// (ProgressRequester, Snapshotter, MemberChanger, LeaderMover, Defragmenter); an RPC
// needing one the Backend lacks answers codes.Unimplemented. etcdapitest is a Backend
// over one in-process kvserver.App, for tests and as a reference driver.
//
// # Differences from etcd
//
//   - Auth is off and cannot be turned on; Hash (not HashKV), Downgrade and raising
//     alarms are Unimplemented; Alarm lists none; Defragment does nothing unless the
//     Backend is a Defragmenter.
//   - Snapshot streams the Backend's own snapshot format, not a bbolt file: the stream is
//     framed so that etcdctl snapshot save accepts it (see SnapshotPayload), but etcdutl
//     cannot restore it.
//   - A txn operation without a request is refused (etcd runs it as nothing).
//   - A watch the member loses (the channel closes without a cancellation) ends the whole
//     gRPC stream with codes.Unavailable; clientv3 reconnects and resumes every watch.
//
// # Example
//
//	srv := etcdapi.NewServer(backend, etcdapi.Options{TLS: tlsConfig})
//	go srv.Serve(grpcListener)
//	go http.Serve(httpListener, srv.Handler()) // /health, /version
//	defer srv.Stop()
package etcdapi
