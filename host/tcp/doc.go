// Package tcp is the real-host peer transport of a raft cluster: framed, batched,
// reconnecting, with optional mutual TLS. It implements transport.Transport; the
// deterministic components never see it, the host driver (host/) moves their messages
// with it.
//
// # Design
//
// One outbound connection per peer, owned by one writer goroutine. Raft sends many small
// messages to the same few peers; a single long-lived stream keeps them in order on the
// common path, costs one TCP and TLS handshake rather than one per message, and means
// exactly one goroutine ever writes a given socket, so there are no write locks. Connections
// are one-way: a member reads only what peers dialed in, and writes only on what it dialed,
// so the two directions fail and recover independently.
//
// Batching. The writer takes whatever has queued up while it was busy and writes it with a
// single flush. Idle, a message goes out alone and at once; under load, hundreds of
// appends and heartbeats share one syscall. Latency is never traded for batch size.
//
// Bounded queues, dropping when full. Send never blocks: a driver stuck behind one slow or
// dead peer would stop ticking and delay elections for everybody. Raft already survives
// loss (heartbeats, retransmitted appends, snapshots), so when a peer's queue is full the
// newest message is dropped and counted, and memory stays bounded at QueueLen frames per
// peer. While a peer is unreachable its queue holds the latest messages, delivered once a
// redial succeeds. Redials back off exponentially (50ms doubling to 2s) with jitter, so
// members restarted together do not hammer each other in lockstep.
//
// Checksums. Every frame is a uint32 big-endian body length, the CRC-32C of the body and
// the body. TCP's own checksum is 16 bits and misses corruption introduced above it (NICs,
// middleboxes, memory); a raft log that silently accepts a flipped bit is worse than a lost
// message, so a frame that fails its checksum, claims more than MaxFrame bytes or ends
// early closes that connection, is logged with the reason and counted in
// Counters.BadFrames. The listener keeps accepting and other connections are untouched; the
// sender's writer redials.
//
// Handshake. Each connection opens with a hello frame: a magic, a version, the sender's ID
// (so the receiver knows who Deliver's messages are from) and the receiver's ID (so a peer
// table pointing at a reused address is caught rather than delivering to the wrong node).
// With TLS, both sides present certificates from the cluster CA; the certificate is not yet
// tied to the ID in the hello, so mTLS keeps strangers out but trusts members to name
// themselves truthfully. A hello from ID 0 to ID 0 opens a query instead (Query,
// Config.Answer): one frame each way, for a member joining the cluster that does not know
// its ID or the member table yet.
//
// # Use
//
//	tr, err := tcp.New(tcp.Config{
//		ID:      1,
//		Listen:  "10.0.0.1:2380",
//		Peers:   map[uint64]string{2: "10.0.0.2:2380", 3: "10.0.0.3:2380"},
//		Deliver: func(from uint64, msg []byte) { inbox <- msg }, // buffered: keep Deliver quick
//	})
//	if err != nil { ... }
//	defer tr.Close()
//	for _, m := range ready.Messages {
//		tr.Send(m.To, encode(m)) // false: dropped, raft will retry
//	}
package tcp
