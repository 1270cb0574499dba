package kv

import (
	"github.com/orrery/orrery/node/bugs"
)

// Defaults for Config fields left zero.
const (
	// DefaultMinLeaseTTL is etcd's minimum lease TTL for its default 1 s election timeout:
	// ceil(1.5 * election timeout) seconds. A lease must outlive a leader election, or a
	// failover would expire leases their clients kept alive.
	DefaultMinLeaseTTL = 2
	// DefaultMaxTxnOps is etcd's --max-txn-ops.
	DefaultMaxTxnOps = 128
	// MaxLeaseTTL is etcd's largest lease TTL, in seconds.
	MaxLeaseTTL = 9_000_000_000
)

// Config is the store's configuration. Every replica of a cluster must use the same values:
// they change the replicated state (granted TTLs, which txns are refused).
type Config struct {
	MinLeaseTTL int64 // seconds; 0 means DefaultMinLeaseTTL
	MaxTxnOps   int   // 0 means DefaultMaxTxnOps
	Bugs        bugs.Set
}

func (c Config) withDefaults() Config {
	if c.MinLeaseTTL == 0 {
		c.MinLeaseTTL = DefaultMinLeaseTTL
	}
	if c.MaxTxnOps == 0 {
		c.MaxTxnOps = DefaultMaxTxnOps
	}
	return c
}

// Store is the replicated MVCC state machine: keys with their history, leases and the
// client dedup table. It is not safe for concurrent use; one driver calls it.
type Store struct {
	cfg        Config
	rev        int64 // current revision; 1 for an empty store
	compactRev int64 // last compaction revision; -1 before the first
	index      keyIndex
	log        revLog
	leases     map[LeaseID]*lease
	leaseSeq   uint64 // draws of automatically chosen lease IDs
	dedup      map[uint64]*dedupEntry
	watches    *WatchHub
}

// New returns an empty store at revision 1.
func New(cfg Config) *Store {
	s := &Store{
		cfg:        cfg.withDefaults(),
		rev:        1,
		compactRev: -1,
		log:        newRevLog(),
		leases:     map[LeaseID]*lease{},
		dedup:      map[uint64]*dedupEntry{},
	}
	s.watches = newWatchHub(s)
	return s
}

// Rev returns the current revision.
func (s *Store) Rev() int64 { return s.rev }

// CompactRevision returns the revision of the last compaction, -1 if there was none.
func (s *Store) CompactRevision() int64 { return s.compactRev }

// Watches returns the store's watch hub. It is local to this replica (not replicated).
func (s *Store) Watches() *WatchHub { return s.watches }

func (s *Store) header() ResponseHeader { return ResponseHeader{Revision: s.rev} }

// checkRev resolves a requested revision (0 or less: cur) against the store's bounds.
func (s *Store) checkRev(rev, cur int64) (int64, error) {
	switch {
	case rev > cur:
		return 0, ErrFutureRev
	case rev <= 0:
		rev = cur
	}
	if rev < s.compactRev {
		return 0, ErrCompacted
	}
	return rev, nil
}
