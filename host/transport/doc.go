// Package transport is the seam between a raft member and the network that carries its
// messages to peers. The deterministic components never see it: they hand their messages out
// as values, and a driver (host/ on real hosts, the simulator's network elsewhere) moves
// them with a Transport.
//
// The contract is deliberately weak, because raft already tolerates it: a message may be
// lost, delayed, or reordered across reconnects. What a
// transport must never do is block its caller or grow without bound, since a stalled
// driver stalls elections and heartbeats for every peer, not just the slow one.
//
// Package tcp implements the contract over TCP with optional mutual TLS.
package transport

// Transport moves opaque payloads to peers identified by non-zero raft IDs.
//
// Send never blocks. It reports whether the payload was accepted for delivery; false means
// it was dropped (queue full, unknown peer, too large, transport closed) and the caller
// should carry on, as raft's retransmissions and heartbeats make up for the loss. True is no
// promise of delivery either. After Send returns, the transport owns payload: the caller
// must not modify it, as it may still be queued.
//
// Send may be called from any goroutine, concurrently with itself and with Close. Close
// stops all delivery, waits for the transport's goroutines and is idempotent.
//
// Incoming payloads reach the function the implementation was built with, typically
// func(from uint64, payload []byte). The receiver owns payload. Implementations document on
// which goroutines that function runs; it should return quickly, because a slow receiver
// applies backpressure to the sending peer.
type Transport interface {
	Send(to uint64, payload []byte) bool
	Close() error
}
