package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// network models the links between nodes: a base latency per directed link drawn from the
// seed, exponential jitter, and the fault profile's loss, duplication, reordering and long
// delays. Partitions cut directed links between servers; clients always reach every server
// (as in Jepsen, the clients stand outside the partitioned network).
type network struct {
	r       *rand.Rand // partition shapes
	seed    uint64
	links   map[[2]NodeID]*rand.Rand // per-link message draws, made on first use
	prof    *Profile
	faulty  bool                // network faults active (the fault phase)
	base    map[[2]NodeID]int64 // per-link base latency, drawn on first use
	cut     map[[2]NodeID]bool  // directed links a partition blocks
	servers int
}

func newNetwork(seed uint64, prof *Profile, servers int) *network {
	return &network{r: newStream(seed, streamNet), seed: seed, links: map[[2]NodeID]*rand.Rand{},
		prof: prof, base: map[[2]NodeID]int64{}, cut: map[[2]NodeID]bool{}, servers: servers}
}

// link returns the random stream of the directed link from->to. Each link draws its
// messages' latency, loss and duplication from its own stream, so that a run that sends
// one message more or less on one link (a shrunk scenario without some fault or
// operation) keeps the draws of every other link.
func (n *network) link(from, to NodeID) *rand.Rand {
	k := [2]NodeID{from, to}
	r := n.links[k]
	if r == nil {
		r = newStream(n.seed, streamLinks+uint64(from)<<16+uint64(to))
		n.links[k] = r
	}
	return r
}

// latency draws the delivery delay of one message on the link from->to.
func (n *network) latency(from, to NodeID) int64 {
	r := n.link(from, to)
	link := [2]NodeID{from, to}
	b, ok := n.base[link]
	if !ok {
		b = between(r, int64(100*time.Microsecond), int64(2*time.Millisecond))
		n.base[link] = b
	}
	d := b + int64(r.ExpFloat64()*float64(b)/4)
	if n.faulty && chance(r, n.prof.ReorderRate) {
		d += between(r, 0, int64(n.prof.ReorderMax))
	}
	if n.faulty && chance(r, n.prof.DelayRate) {
		d += between(r, int64(n.prof.DelayMax)/10, int64(n.prof.DelayMax))
	}
	return d
}

// blocked reports whether a partition cuts from->to.
func (n *network) blocked(from, to NodeID) bool { return n.cut[[2]NodeID{from, to}] }

// deliveries returns the delays at which copies of one message arrive: none when lost,
// two when duplicated.
func (n *network) deliveries(from, to NodeID) []int64 {
	if n.blocked(from, to) || (n.faulty && chance(n.link(from, to), n.prof.DropRate)) {
		return nil
	}
	out := []int64{n.latency(from, to)}
	if n.faulty && chance(n.link(from, to), n.prof.DuplicateRate) {
		out = append(out, n.latency(from, to))
	}
	return out
}

// partitionKinds are the shapes partition episodes take.
var partitionKinds = []string{"halves", "one", "minority", "ring", "bridge", "one-way"}

// partition replaces the current cut with a fresh one of the given shape over a random
// ordering of the servers, and returns a description for the fault window. A non-zero
// first is put at the head of the ordering: on the small side of every shape.
func (n *network) partition(kind string, first NodeID) string {
	n.heal()
	ids := make([]NodeID, n.servers)
	for i := range ids {
		ids[i] = NodeID(i + 1)
	}
	n.r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	if i := slices.Index(ids, first); i > 0 {
		ids[0], ids[i] = ids[i], ids[0]
	}
	major := len(ids)/2 + 1
	switch kind {
	case "halves":
		n.split(ids[:len(ids)/2], ids[len(ids)/2:], true)
	case "one":
		n.split(ids[:1], ids[1:], true)
	case "minority":
		k := 1 + n.r.IntN(len(ids)-major+1)
		n.split(ids[:k], ids[k:], true)
	case "ring":
		n.ring(ids, (major-1+1)/2)
	case "bridge":
		half := len(ids) / 2
		n.split(ids[:half], ids[half+1:], true)
	case "one-way":
		k := 1 + n.r.IntN(len(ids)-major+1)
		n.split(ids[:k], ids[k:], false)
	}
	return kind + " " + describeCut(n)
}

// split cuts every link from a to b, and from b to a when both.
func (n *network) split(a, b []NodeID, both bool) {
	for _, x := range a {
		for _, y := range b {
			n.cutLink(x, y)
			if both {
				n.cutLink(y, x)
			}
		}
	}
}

// ring arranges the nodes on a circle and keeps only links between nodes at most reach
// apart, so every node sees a majority but no two nodes see the same one (Jepsen's
// majorities-ring). With fewer than five nodes the ring is fully connected.
func (n *network) ring(ids []NodeID, reach int) {
	for i, x := range ids {
		for j, y := range ids {
			d := (i - j + len(ids)) % len(ids)
			if d > len(ids)-d {
				d = len(ids) - d
			}
			if d > reach {
				n.cutLink(x, y)
			}
		}
	}
}

// describeCut renders the cut as the list of blocked directed links, in node order.
func describeCut(n *network) string {
	var b []byte
	b = append(b, '[')
	for from := NodeID(1); int(from) <= n.servers; from++ {
		for to := NodeID(1); int(to) <= n.servers; to++ {
			if n.blocked(from, to) {
				if len(b) > 1 {
					b = append(b, ' ')
				}
				b = append(b, fmt.Sprintf("%d>%d", from, to)...)
			}
		}
	}
	return string(append(b, ']'))
}

// heal removes every cut.
func (n *network) heal() { clear(n.cut) }

// cutLink blocks from->to.
func (n *network) cutLink(from, to NodeID) { n.cut[[2]NodeID{from, to}] = true }
