package rsm

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
