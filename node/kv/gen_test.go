package kv

import (
	"math/rand/v2"
	"slices"
)

// gen draws random commands and reads over a small key space, so that commands collide.
type gen struct {
	r      *rand.Rand
	keys   []string
	leases []LeaseID // IDs granted so far (some may be revoked)
	nextID LeaseID
	client uint64
	seq    uint64
	last   *Command // last command with an identity, for retries
}

func newGen(seed uint64) *gen {
	return &gen{
		r:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		keys:   []string{"a", "ab", "b", "ba", "c", "d", "e", "f"},
		nextID: 100,
		client: 1,
	}
}

func (g *gen) key() string   { return g.keys[g.r.IntN(len(g.keys))] }
func (g *gen) value() []byte { return b([]string{"", "x", "y", "zz"}[g.r.IntN(4)]) }
func (g *gen) chance(p float64) bool {
	return g.r.Float64() < p
}

// rangeEnd returns a range end for key: none, a prefix, "to the end", or a later key.
func (g *gen) rangeEnd(key string) []byte {
	switch g.r.IntN(5) {
	case 0, 1:
		return nil
	case 2:
		return Prefix(b(key))
	case 3:
		return []byte{0}
	default:
		return b(g.key())
	}
}

func (g *gen) lease() LeaseID {
	if len(g.leases) == 0 || g.chance(0.1) {
		return 99 // never granted
	}
	return g.leases[g.r.IntN(len(g.leases))]
}

func (g *gen) put(key string) *PutRequest {
	p := &PutRequest{Key: b(key), Value: g.value(), PrevKV: g.chance(0.5)}
	switch g.r.IntN(8) {
	case 0:
		p.Lease = g.lease()
	case 1:
		p.IgnoreValue, p.Value = true, nil
	case 2:
		p.IgnoreLease = true
	}
	return p
}

// command draws a command for a store at rev with the given compaction revision.
func (g *gen) command(rev, compactRev int64) Command {
	if g.last != nil && g.chance(0.05) {
		return *g.last // a retry
	}
	var c Command
	switch n := g.r.IntN(100); {
	case n < 35:
		c.Put = g.put(g.key())
	case n < 50:
		k := g.key()
		c.DeleteRange = &DeleteRangeRequest{Key: b(k), RangeEnd: g.rangeEnd(k), PrevKV: g.chance(0.5)}
	case n < 80:
		c.Txn = g.txn(rev, 0, g.shuffledKeys())
	case n < 85:
		c.Compaction = &CompactionRequest{Revision: max(0, compactRev) + g.r.Int64N(rev-max(0, compactRev)+2) - 1}
	case n < 92:
		g.nextID++
		id := g.nextID
		if g.chance(0.1) && len(g.leases) > 0 {
			id = g.leases[0] // exists, or revoked
		}
		g.leases = append(g.leases, id)
		c.LeaseGrant = &LeaseGrantRequest{ID: id, TTL: g.r.Int64N(10)}
	case n < 97:
		c.LeaseRevoke = &LeaseRevokeRequest{ID: g.lease()}
	default:
		c.LeaseExpire = &LeaseExpireRequest{IDs: []LeaseID{g.lease(), g.lease()}}
		slices.Sort(c.LeaseExpire.IDs)
		c.LeaseExpire.IDs = slices.Compact(c.LeaseExpire.IDs)
	}
	if g.chance(0.3) {
		if g.chance(0.2) {
			g.client++
		}
		g.seq++
		c.ClientID, c.Seq = g.client, g.seq
		cp := c
		g.last = &cp
	}
	return c
}

func (g *gen) shuffledKeys() []string {
	ks := slices.Clone(g.keys)
	g.r.Shuffle(len(ks), func(i, j int) { ks[i], ks[j] = ks[j], ks[i] })
	return ks
}

// txn draws a txn whose writes use distinct keys taken from pool (so etcd's duplicate-key
// rule only fires when it deliberately repeats a put), nested up to depth 2.
func (g *gen) txn(rev int64, depth int, pool []string) *TxnRequest {
	t := &TxnRequest{}
	for range g.r.IntN(3) {
		t.Compare = append(t.Compare, g.compare())
	}
	t.Success, pool = g.ops(rev, depth, pool)
	t.Failure, _ = g.ops(rev, depth, pool)
	if g.chance(0.03) && len(t.Success) > 0 && t.Success[0].Put != nil {
		t.Success = append(t.Success, RequestOp{Put: g.put(string(t.Success[0].Put.Key))})
	}
	return t
}

func (g *gen) ops(rev int64, depth int, pool []string) ([]RequestOp, []string) {
	var ops []RequestOp
	for range g.r.IntN(4) {
		var op RequestOp
		switch n := g.r.IntN(10); {
		case n < 3:
			op.Range = g.rangeReq(rev)
		case n < 6 && len(pool) > 0:
			op.Put, pool = g.put(pool[0]), pool[1:]
		case n < 8 && len(pool) > 0:
			op.DeleteRange, pool = &DeleteRangeRequest{Key: b(pool[0]), PrevKV: g.chance(0.5)}, pool[1:]
		case depth < 2:
			op.Txn = g.txn(rev, depth+1, pool)
			pool = nil // the nested txn may use any of them
		default:
			op.Range = g.rangeReq(rev)
		}
		ops = append(ops, op)
	}
	return ops, pool
}

func (g *gen) compare() Compare {
	k := g.key()
	c := Compare{Key: b(k), Result: CompareResult(g.r.IntN(4)), Target: CompareTarget(g.r.IntN(5))}
	if g.chance(0.2) {
		c.RangeEnd = g.rangeEnd(k)
	}
	n := g.r.Int64N(6)
	switch c.Target {
	case TargetValue:
		c.Value = g.value()
	case TargetVersion:
		c.Version = n
	case TargetCreate:
		c.CreateRevision = n
	case TargetMod:
		c.ModRevision = n
	case TargetLease:
		c.Lease = []LeaseID{0, 99, 101, 102}[g.r.IntN(4)]
	}
	return c
}

// rangeReq draws a read, sometimes at an old, compacted or future revision.
func (g *gen) rangeReq(rev int64) *RangeRequest {
	k := g.key()
	r := &RangeRequest{Key: b(k), RangeEnd: g.rangeEnd(k)}
	if g.chance(0.4) {
		r.Revision = g.r.Int64N(rev + 2)
	}
	if g.chance(0.3) {
		r.Limit = g.r.Int64N(4)
	}
	if g.chance(0.3) {
		r.SortOrder, r.SortTarget = SortOrder(g.r.IntN(3)), SortTarget(g.r.IntN(5))
	}
	r.KeysOnly, r.CountOnly = g.chance(0.1), g.chance(0.1)
	if g.chance(0.2) {
		r.MinModRevision = g.r.Int64N(rev + 1)
	}
	if g.chance(0.2) {
		r.MaxModRevision = g.r.Int64N(rev + 1)
	}
	if g.chance(0.2) {
		r.MinCreateRevision = g.r.Int64N(rev + 1)
	}
	if g.chance(0.2) {
		r.MaxCreateRevision = g.r.Int64N(rev + 1)
	}
	return r
}
