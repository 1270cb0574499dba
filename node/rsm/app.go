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
