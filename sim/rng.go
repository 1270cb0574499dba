package sim

import "math/rand/v2"

// Random streams. Each concern draws from its own stream derived from the seed, so that a
// change in how often one concern draws (say, the workload) does not shift the draws of
// another (say, the network). That keeps seeds meaningful across small code changes and
// makes scenarios easier to shrink.
const (
	streamSwarm uint64 = iota + 1
	streamNet
	streamNemesis
	streamDisk // unused since each node's disk has its own stream (streamDisks)
	streamClock
	streamWorkload
	streamOutside
	streamNode // + node ID and incarnation, see nodeRand
	// streamFaultPoints decides whether a swarm run fires fault points; each node's
	// decisions come from streamFaultPoints + node ID<<8 (far from streamNode's range).
	streamFaultPoints uint64 = 1 << 40
	// streamLinks + from<<16 + to is the stream of one directed link's messages;
	// streamDisks + node ID the stream of one node's disk (sync latency and failure, what
	// survives a crash, tearing, rot).
	streamLinks uint64 = 1 << 41
	streamDisks uint64 = 1 << 42
)

// splitmix64 scrambles x; used to turn (seed, stream) into well-spread PCG state.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// newStream returns the random source for one stream of a seed.
func newStream(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix64(seed), splitmix64(seed^splitmix64(stream))))
}

// nodeRand returns the source a node's component gets for one incarnation.
func nodeRand(seed uint64, id NodeID, incarnation int) *rand.Rand {
	return newStream(seed, streamNode+uint64(id)<<20+uint64(incarnation))
}

// between draws a duration-like int64 uniformly in [lo, hi].
func between(r *rand.Rand, lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + r.Int64N(hi-lo+1)
}

// chance reports true with probability p.
func chance(r *rand.Rand, p float64) bool {
	return p > 0 && r.Float64() < p
}

// NewRand returns a seeded source for code that drives components outside a world (tests,
// tools): the same derivation the world uses for its own streams.
func NewRand(seed uint64) *rand.Rand { return newStream(seed, 0) }
