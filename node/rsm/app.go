package rsm

import "time"

// Application is the state machine that raft replicates. It must be deterministic: the same
// commands in the same order give the same results and the same snapshot bytes on every node.
type Application interface {
	// Apply executes a committed command and returns its result for the client.
	Apply(cmd []byte) []byte
	// Read answers a query against the applied state without changing it.
	Read(query []byte) []byte
	// Snapshot returns the whole state; Restore replaces the state with one.
	Snapshot() []byte
	Restore(data []byte) error
}

// Streamer is implemented by applications that push messages to clients, such as watch
// events. Streams are local to the server a client opened them on (like etcd's watches,
// any member serves them) and die with it: clients reopen them elsewhere.
type Streamer interface {
	// Subscribe opens (or replaces) client's stream as query says and returns the reply.
	Subscribe(client uint64, query []byte) []byte
	// Outbox returns what to push now, after applying entries or subscribing.
	Outbox() []Push
}

// Push is one message for one client.
type Push struct {
	Client uint64
	Data   []byte
}

// Local is implemented by applications that answer some requests on the server that
// receives them, without a raft round: serializable (possibly stale) reads, and requests
// only the leader can answer from its own state, such as lease keep-alives. leader says
// whether this server believes it leads.
type Local interface {
	Local(query []byte, leader bool) []byte
}

// Timed is implemented by applications that act on local time and leadership, such as a
// lease keeper: the leader's clock decides when leases expire.
type Timed interface {
	// Now gives the local time before each input is handled, so that Apply, Local and
	// Lead see the time of the input they serve.
	Now(now time.Duration)
	// Lead says that this server started (true) or stopped leading.
	Lead(leader bool)
	// Due returns commands the leader proposes on its own (with no client), asked at every
	// tick while it leads.
	Due() [][]byte
}

// Noter is implemented by applications that report facts for checkers, such as a lease
// expiring; the server turns them into component.Observe effects after each applied entry.
type Noter interface {
	Notes() []Note
}

// Note is one reported fact.
type Note struct {
	Kind, Value string
}

// LeaderOnly is implemented by applications with queries only the leader can answer
// (a lease keep-alive needs the leader's lessor); with Config.FollowerReads, followers
// redirect those instead of serving them.
type LeaderOnly interface {
	LeaderOnly(query []byte) bool
}
