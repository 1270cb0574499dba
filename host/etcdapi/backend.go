package etcdapi

import (
	"context"
	"errors"
	"io"

	"github.com/orrery/orrery/node/kv"
)

// Backend is the member the API serves: the real node driver (raft + kvserver over the
// transport), or etcdapitest's single in-process store. The server calls it from many
// goroutines at once: every method must be safe for concurrent use.
//
// Errors. A kv sentinel error (kv.ErrCompacted, kv.ErrLeaseNotFound, ...) in a Reply or
// Answer is definite: the operation did not happen. An error returned by a method means
// "not done, or unknown whether done" (indefinite for writes): the context ended, there is
// no leader, the member stopped. Return (or wrap) this package's ErrNoLeader, ErrStopped,
// ErrTimeout, ErrLeaderChanged or the context's error, so clients get etcd's status
// codes and retry as they would against etcd; a gRPC status error is passed through as it
// is; anything else becomes codes.Unknown with the error's text.
type Backend interface {
	// Header returns what every response header carries besides the revision, and who
	// leads. It is called for every request and stream message: it must be cheap and must
	// not block (keep the values in atomics, updated by the driver).
	Header() Header

	// Write replicates cmd and returns its outcome once applied. cmd.ClientID and Seq are
	// zero: request identity and deduplication of the backend's own retries are the
	// backend's business. Reply.Err is a definite kv error.
	Write(ctx context.Context, cmd kv.Command) (kv.Reply, error)

	// Query answers q: linearizably (after a read index) unless serializable, in which
	// case from this member's applied state. A KeepAlive query must reach the leader's
	// Lessor (forward it if this member does not lead); it is always sent with
	// serializable false. Answer.Err is a definite kv error.
	Query(ctx context.Context, q kv.Query, serializable bool) (kv.Answer, error)

	// Watch opens a watch on this member's applied state. req.StartRevision is always
	// positive (the server resolves "from now" to current revision + 1 itself), req.WatchID
	// is zero (watch IDs belong to the gRPC stream) and req.ProgressNotify is false (the
	// server schedules progress notifications, through ProgressRequester). A definite
	// refusal (kv.ErrEmptyWatcherRange) is returned as the error.
	//
	// The channel delivers the watch's responses in order. It is closed when ctx ends, or
	// after a response with Canceled set (compaction overtook the watch), or when the
	// stream breaks (the member lost the watch: restored a snapshot, stopped, could not
	// keep up); in the last case the server ends the client's gRPC stream with
	// codes.Unavailable and clientv3 resumes every watch of it from where it was.
	Watch(ctx context.Context, req kv.WatchRequest) (<-chan kv.WatchResponse, error)

	// Status reports the member (etcd's Maintenance.Status).
	Status(ctx context.Context) (Status, error)

	// Members lists the cluster's members (etcd's Cluster.MemberList).
	Members(ctx context.Context) ([]Member, error)
}

// Header is the member's identity and raft position, as response headers carry them.
type Header struct {
	ClusterID uint64
	MemberID  uint64
	RaftTerm  uint64
	Leader    uint64 // member ID of the leader this member knows; 0 for none
}

// Status is one member's report (etcdserverpb.StatusResponse).
type Status struct {
	Header
	RaftIndex        uint64 // last committed index
	RaftAppliedIndex uint64
	Revision         int64 // store revision
	DBSize           int64 // bytes of the member's storage
	DBSizeInUse      int64 // 0: same as DBSize
	DBSizeQuota      int64 // 0: etcd's default 2 GiB
	IsLearner        bool
	Version          string   // "": Options.Version
	StorageVersion   string   // "": Options.Version's major.minor.0
	Errors           []string // alarms and the like; "no leader" is added by the server
}

// Member is one cluster member (etcdserverpb.Member).
type Member struct {
	ID         uint64
	Name       string // "" for a member added but not yet started
	PeerURLs   []string
	ClientURLs []string
	IsLearner  bool
}

// Optional abilities. The server checks for them by type assertion; an RPC whose ability
// the backend lacks answers codes.Unimplemented with a message naming it.

// ProgressRequester asks an open watch for a progress notification. Without it, watch
// progress requests and progress_notify get nothing (as etcd answers a progress request
// while a watcher is not synced).
type ProgressRequester interface {
	// RequestProgress asks the watch whose channel is ch (as Watch returned it) for a
	// progress notification: a response without events whose Header.Revision R promises
	// that every event up to R was delivered on ch before it. It must not block on the
	// channel's reader.
	RequestProgress(ctx context.Context, ch <-chan kv.WatchResponse) error
}

// Snapshotter streams the member's state (Maintenance.Snapshot, etcdctl snapshot save).
type Snapshotter interface {
	// Snapshot returns a consistent copy of the member's state. The server closes it. If
	// the reader also has a Size() int64 method, responses carry remaining_bytes.
	Snapshot(ctx context.Context) (io.ReadCloser, error)
}

// MemberChanger changes the membership (Cluster.MemberAdd/Remove/Update/Promote). Each
// method returns the member list after the change.
type MemberChanger interface {
	MemberAdd(ctx context.Context, peerURLs []string, learner bool) (Member, []Member, error)
	MemberRemove(ctx context.Context, id uint64) ([]Member, error)
	MemberUpdate(ctx context.Context, id uint64, peerURLs []string) ([]Member, error)
	MemberPromote(ctx context.Context, id uint64) ([]Member, error)
}

// LeaderMover hands leadership to another member (Maintenance.MoveLeader). Only the leader
// can: a follower returns kv.ErrNotLeader.
type LeaderMover interface {
	MoveLeader(ctx context.Context, target uint64) error
}

// Defragmenter compacts the member's storage file (Maintenance.Defragment). Without it,
// Defragment succeeds doing nothing.
type Defragmenter interface {
	Defragment(ctx context.Context) error
}

// Errors a Backend returns for operations it did not do, or does not know whether it did.
// Their texts are etcd's (server/etcdserver/errors), and the server maps them to etcd's
// gRPC statuses (api/v3rpc/rpctypes), so clientv3 retries and reports them as it does
// for etcd.
var (
	ErrNoLeader                   = errors.New("etcdserver: no leader")
	ErrLeaderChanged              = errors.New("etcdserver: leader changed")
	ErrStopped                    = errors.New("etcdserver: server stopped")
	ErrTimeout                    = errors.New("etcdserver: request timed out")
	ErrTimeoutDueToLeaderFail     = errors.New("etcdserver: request timed out, possibly due to previous leader failure")
	ErrTimeoutDueToConnectionLost = errors.New("etcdserver: request timed out, possibly due to connection lost")
	ErrUnhealthy                  = errors.New("etcdserver: unhealthy cluster")
	ErrTooManyRequests            = errors.New("etcdserver: too many requests")
	ErrRequestTooLarge            = errors.New("etcdserver: request is too large")
	ErrBadLeaderTransferee        = errors.New("etcdserver: bad leader transferee")
	ErrCorrupt                    = errors.New("etcdserver: corrupt cluster")

	// Membership errors (server/etcdserver/api/membership).
	ErrMemberNotFound   = errors.New("membership: ID not found")
	ErrMemberExists     = errors.New("membership: ID exists")
	ErrPeerURLExists    = errors.New("membership: peerURL exists")
	ErrMemberNotLearner = errors.New("membership: can only promote a learner member")
	ErrTooManyLearners  = errors.New("membership: too many learner members in cluster")
	ErrLearnerNotReady  = errors.New("etcdserver: can only promote a learner member which is in sync with leader")
)
