package raft

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/orrery/orrery/node/bugs"
)

// Config configures a Node.
type Config struct {
	// ID identifies this node; it must not be 0.
	ID uint64
	// Peers and Learners are the initial configuration of a brand-new cluster: the
	// configuration at index 0. They are used only while the storage holds no snapshot, and
	// must then be passed again on every restart. A node that joins an existing cluster
	// passes neither and learns the configuration from the leader's log or snapshot.
	Peers    []uint64
	Learners []uint64
	// ElectionTick is the number of ticks without hearing from a leader before a follower
	// campaigns; the actual timeout is drawn from [ElectionTick, 2*ElectionTick). Default 10.
	ElectionTick int
	// HeartbeatTick is the number of ticks between a leader's heartbeats. Default 1.
	HeartbeatTick int
	// Storage is the durable state (required).
	Storage Storage
	// Rand draws the randomized election timeouts (required; seed it for replayable runs).
	Rand *rand.Rand
	// PreVote runs a pre-election that does not bump terms, so that a node rejoining after
	// a partition does not disrupt a working leader.
	PreVote bool
	// CheckQuorum makes a leader step down when it has not heard from a quorum within an
	// election timeout, and makes followers ignore votes while they hear from a leader.
	CheckQuorum bool
	// MaxSizePerMsg bounds the entries bytes in one append. Default 1 MiB.
	MaxSizePerMsg uint64
	// MaxInflightMsgs bounds the appends in flight to one peer. Default 256.
	MaxInflightMsgs int
	// MaxInflightBytes bounds the entry bytes in flight to one peer; 0 means no limit.
	MaxInflightBytes uint64
	// MaxUncommittedEntriesSize bounds the bytes of uncommitted entries a leader accepts;
	// further proposals get ErrProposalDropped. 0 means no limit.
	MaxUncommittedEntriesSize uint64
	// Applied is the last index the application had applied before a restart.
	Applied uint64
	// Bugs switches planted bugs on (see the Bugs catalog); the zero value is correct code.
	Bugs bugs.Set
}

// ErrConfig wraps every configuration error.
var ErrConfig = errors.New("raft: invalid config")

func (c *Config) withDefaults() Config {
	out := *c
	if out.ElectionTick == 0 {
		out.ElectionTick = 10
	}
	if out.HeartbeatTick == 0 {
		out.HeartbeatTick = 1
	}
	if out.MaxSizePerMsg == 0 {
		out.MaxSizePerMsg = 1 << 20
	}
	if out.MaxInflightMsgs == 0 {
		out.MaxInflightMsgs = 256
	}
	return out
}

func (c *Config) validate() error {
	switch {
	case c.ID == 0:
		return fmt.Errorf("%w: ID must not be 0", ErrConfig)
	case c.Storage == nil:
		return fmt.Errorf("%w: Storage is required", ErrConfig)
	case c.Rand == nil:
		return fmt.Errorf("%w: Rand is required (a seeded *rand.Rand)", ErrConfig)
	case c.HeartbeatTick <= 0:
		return fmt.Errorf("%w: HeartbeatTick must be positive", ErrConfig)
	case c.ElectionTick <= c.HeartbeatTick:
		return fmt.Errorf("%w: ElectionTick (%d) must exceed HeartbeatTick (%d)", ErrConfig, c.ElectionTick, c.HeartbeatTick)
	case c.MaxInflightMsgs < 0:
		return fmt.Errorf("%w: MaxInflightMsgs must not be negative", ErrConfig)
	}
	if err := c.Bugs.Validate(Bugs); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return validateIDs(c.Peers, c.Learners)
}

func validateIDs(peers, learners []uint64) error {
	seen := map[uint64]bool{}
	for _, id := range append(append([]uint64(nil), peers...), learners...) {
		if id == 0 {
			return fmt.Errorf("%w: node id 0 in Peers/Learners", ErrConfig)
		}
		if seen[id] {
			return fmt.Errorf("%w: node %d listed twice in Peers/Learners", ErrConfig, id)
		}
		seen[id] = true
	}
	return nil
}
