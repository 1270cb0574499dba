package tcp

import (
	"sync"
	"sync/atomic"
)

// Counters count frames and connection events. All are cumulative since New.
type Counters struct {
	// Sent counts frames written and flushed to a peer's connection.
	Sent uint64
	// Received counts frames delivered to Config.Deliver.
	Received uint64
	// Dropped counts frames Send refused (queue full, unknown peer, too large, closed) and
	// frames abandoned: in a write that failed (they may still have arrived) or queued for a
	// peer that was removed.
	Dropped uint64
	// BadFrames counts inbound connections closed because a frame or a handshake (hello or
	// TLS) failed to decode or verify.
	BadFrames uint64
	// Reconnects counts redials after a failed dial or a lost outbound connection.
	Reconnects uint64
}

func (c *Counters) add(o Counters) {
	c.Sent += o.Sent
	c.Received += o.Received
	c.Dropped += o.Dropped
	c.BadFrames += o.BadFrames
	c.Reconnects += o.Reconnects
}

// Stats is a snapshot of the counters.
type Stats struct {
	// Total sums every peer and the events that no peer can be blamed for: sends to unknown
	// peers and connections that failed before their hello named the sender.
	Total Counters
	// Peers holds the counters of every peer that was configured or connected in.
	Peers map[uint64]Counters
}

// counters is the live, concurrently updated form of Counters.
type counters struct {
	sent, received, dropped, badFrames, reconnects atomic.Uint64
}

func (c *counters) load() Counters {
	return Counters{
		Sent:       c.sent.Load(),
		Received:   c.received.Load(),
		Dropped:    c.dropped.Load(),
		BadFrames:  c.badFrames.Load(),
		Reconnects: c.reconnects.Load(),
	}
}

// statsTable keeps one counters per peer ID for the transport's lifetime, so that a peer's
// history survives SetPeer, RemovePeer and reconnects.
type statsTable struct {
	mu    sync.Mutex
	peers map[uint64]*counters
	anon  counters // events without a known peer
}

func (s *statsTable) get(id uint64) *counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.peers[id]
	if c == nil {
		c = new(counters)
		if s.peers == nil {
			s.peers = make(map[uint64]*counters)
		}
		s.peers[id] = c
	}
	return c
}

func (s *statsTable) snapshot() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Total: s.anon.load(), Peers: make(map[uint64]Counters, len(s.peers))}
	for id, c := range s.peers {
		v := c.load()
		st.Peers[id] = v
		st.Total.add(v)
	}
	return st
}
