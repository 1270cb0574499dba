package jepsen

import (
	"context"
	"log/slog"
	"math/rand"
)

// Cluster is a running cluster under test.
//
// The methods may be called from several goroutines at once. Kill, Start, Pause and Resume
// act on the node's process only; they are idempotent (killing a dead node, starting a
// running one, resuming a running one are no-ops).
type Cluster interface {
	Nodes() []string                            // node names, e.g. "n1".."n5"
	Endpoint(node string) string                // client endpoint host:port reachable from the harness process
	Endpoints() []string                        // all of them, in Nodes() order
	Kill(node string) error                     // SIGKILL the node's process
	Start(node string) error                    // (re)start a node's process on its existing data dir; no-op if running
	Pause(node string) error                    // SIGSTOP
	Resume(node string) error                   // SIGCONT
	Leader(ctx context.Context) (string, error) // the node the others agree is leader (via clientv3 Status)
	LogPath(node string) string                 // the node's combined stdout/stderr log file
	Close() error                               // kill everything, remove every namespace, link, nft table, proxy, temp dir
}

// Nemesis injects one kind of fault. Start applies it (choosing targets with r) and returns
// a description for the history/summary; Stop heals everything it did.
//
// Start on a cluster the nemesis cannot attack (a clock skew on etcd, say) returns an error
// wrapping ErrUnsupported and changes nothing; Supported tells beforehand. Stop may be called
// without a Start, or twice, and then heals what is left, if anything.
type Nemesis interface {
	Name() string
	Start(ctx context.Context, c Cluster, r *rand.Rand) (string, error)
	Stop(ctx context.Context, c Cluster) error
}

// Options for Up.
type Options struct {
	Nodes   int      // default 5
	Binary  string   // path to the orrery binary (built by the caller)
	EtcdBin string   // if set, run this etcd binary instead of orrery (calibration)
	Bugs    []string // passed as --bug to orrery nodes
	Dir     string   // working dir for data dirs and logs (the caller's results folder/nodes); default a temp dir removed by Close
	Logger  *slog.Logger

	// LogLevel is passed to orrery nodes as --log-level (default "info").
	LogLevel string
	// HeartbeatMS and ElectionMS are the raft timings in milliseconds (default 100 and 1000).
	HeartbeatMS, ElectionMS int
}
