package kv

import "errors"

// Errors a client can see. Their texts are exactly etcd's (mvcc and api/v3rpc/rpctypes), so
// that a gRPC layer can map them to the status messages clientv3 recognises; every one of
// them is definite: the operation did not happen.
var (
	// ErrCompacted: the requested revision is at or below the last compaction.
	ErrCompacted = errors.New("mvcc: required revision has been compacted")
	// ErrFutureRev: the requested revision is above the current revision.
	ErrFutureRev = errors.New("mvcc: required revision is a future revision")
	// ErrEmptyKey: a request or compare without a key.
	ErrEmptyKey = errors.New("etcdserver: key is not provided")
	// ErrKeyNotFound: ignore_value or ignore_lease on a key that does not exist.
	ErrKeyNotFound = errors.New("etcdserver: key not found")
	// ErrValueProvided: ignore_value together with a value.
	ErrValueProvided = errors.New("etcdserver: value is provided")
	// ErrLeaseProvided: ignore_lease together with a lease.
	ErrLeaseProvided = errors.New("etcdserver: lease is provided")
	// ErrTooManyOps: a txn with more operations than Config.MaxTxnOps.
	ErrTooManyOps = errors.New("etcdserver: too many operations in txn request")
	// ErrDuplicateKey: a txn that writes the same key twice.
	ErrDuplicateKey = errors.New("etcdserver: duplicate key given in txn request")
	// ErrInvalidSortOption: a range with an unknown sort order or target.
	ErrInvalidSortOption = errors.New("etcdserver: invalid sort option")
	// ErrLeaseNotFound: a put, revoke or keep-alive naming a lease that does not exist.
	ErrLeaseNotFound = errors.New("etcdserver: requested lease not found")
	// ErrLeaseExist: a grant with an ID already in use.
	ErrLeaseExist = errors.New("etcdserver: lease already exists")
	// ErrLeaseTTLTooLarge: a grant above MaxLeaseTTL.
	ErrLeaseTTLTooLarge = errors.New("etcdserver: too large lease TTL")
	// ErrNotLeader: a lease keep-alive sent to a Lessor that is not the primary one.
	ErrNotLeader = errors.New("etcdserver: not leader")
	// ErrWatcherDuplicateID: a watch with an ID already in use.
	ErrWatcherDuplicateID = errors.New("mvcc: duplicate watch ID provided on the WatchStream")
	// ErrEmptyWatcherRange: a watch whose range end is not above its key.
	ErrEmptyWatcherRange = errors.New("mvcc: watcher range is empty")
	// ErrWatcherNotExist: cancel or progress for an unknown watch ID.
	ErrWatcherNotExist = errors.New("mvcc: watcher does not exist")
)

// Errors of our own (no etcd counterpart).
var (
	// ErrStaleRequest: a command whose (ClientID, Seq) is older than the latest one applied for
	// that client. The client has moved on (it has one request in flight), so the old request
	// is refused rather than executed out of order; it did not happen.
	ErrStaleRequest = errors.New("kv: request superseded by a newer request of the same client")
	// ErrTxnNotReadOnly: ReadTxn was given a txn that writes; apply it as a Command.
	ErrTxnNotReadOnly = errors.New("kv: txn has writes: apply it as a command")
	// ErrMalformed: a command or snapshot that does not decode.
	ErrMalformed = errors.New("kv: malformed encoding")
)

// resultErrors lists the errors Apply can return, in a fixed order: the codec stores a
// recorded error (dedup table) and an answer's error as its position here. Append only.
var resultErrors = []error{
	ErrCompacted, ErrFutureRev, ErrEmptyKey, ErrKeyNotFound, ErrValueProvided,
	ErrLeaseProvided, ErrTooManyOps, ErrDuplicateKey, ErrInvalidSortOption,
	ErrLeaseNotFound, ErrLeaseExist, ErrLeaseTTLTooLarge, ErrStaleRequest,
	ErrNotLeader, ErrTxnNotReadOnly, ErrMalformed, ErrWatcherDuplicateID,
	ErrEmptyWatcherRange, ErrWatcherNotExist,
}
