package workload

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"

	"github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/kv"
	"github.com/orrery/orrery/sim"
)

// The mvcc workload drives the store's whole API: ranges with limits, old revisions, every
// sort order and target, count-only, keys-only and min/max filters; puts with prevKV,
// leases and ignore_value/ignore_lease; deletes of ranges; txns with compares of every
// target and result over keys and ranges, nested txns, reads inside txns; read-only txns;
// compaction at past revisions; leases granted, kept alive, revoked and left to expire,
// several keys each, queried for their time to live and keys.
//
// Each client watches every key (with PrevKV, rewinding now and then) and replays its
// stream, as the kv workload's clients do. It holds every response it gets to the
// reference (mvccref.go) evaluated on that replay at the response's revision: a write's
// response and the events committed at its revision must be what etcd's semantics give
// for the state before it, a read's what they give for the state at it. A client's final
// operation stops its keep-alives and waits for the keys of all its leases to go. Across
// clients (checkMvcc): revisions respect real time, no revision is claimed by two writes,
// and compaction is consistent (reads below a completed compaction fail, a compacted
// refusal follows a compaction that was sent).

const (
	mvccKeys   = 6 // k0..k5 (another prefix in the all workload)
	mvccMinTTL = 1 // seconds, so that leases left alone expire well within the liveness bound
	leaseSlots = 2 // leases per client the generator can name
)

// Requests carry placeholders the client resolves when it sends them: it alone knows the
// revisions its stream has reached and the leases it holds. A negative revision n stands
// for last+1+n (so -1 is the last revision the client saw); a negative lease ID names a
// slot: slotLease(i) the lease last granted into slot i, slotGrant(i) a new grant into it.
func slotLease(i int) kv.LeaseID { return kv.LeaseID(-1 - i) }
func slotGrant(i int) kv.LeaseID { return kv.LeaseID(-100 - i) }

func mvccWorkload() Workload {
	return Workload{
		Name: "mvcc",
		Description: "the store's whole API (ranges with limits, revisions, sorts and filters; puts with leases, prevKV and ignore flags; " +
			"range deletes; txns with every compare target and result, nested; compaction; leases kept, revoked and expired) " +
			"held response by response to a reference of etcd's semantics on each client's watch replay",
		Bugs: kvBugs(),
		Build: func(cfg Config) (sim.System, error) {
			if cfg.Clients == 0 {
				cfg.Clients = 5
			}
			sys, err := storeSystem("mvcc", cfg, mvccMinTTL, nil, followerReads)
			if err != nil {
				return sys, err
			}
			servers := serverIDs(sys.Servers)
			sys.Client = func(id component.NodeID, r *rand.Rand) component.Component {
				m := newMvccClient(id, servers, r)
				if (int(id)-sys.Servers-1)%2 == 1 {
					m.Client.Front()
				}
				return m
			}
			sys.Workload = func() sim.Generator { return &mvccOps{prefix: watchPrefix} }
			sys.Invariants = checkMvcc
			return sys, nil
		},
	}
}

// mvccOps draws the requests. Values are unique (v1, v2, ...), so a watcher can tell writes
// apart; a txn writes each key at most once, so it is always valid.
type mvccOps struct {
	prefix []byte // the keys are prefix0..prefix5
	n      int
}

func (g *mvccOps) value() []byte {
	g.n++
	return fmt.Appendf(nil, "v%d", g.n)
}

// key is the workload's i-th key: the prefix and i.
func (g *mvccOps) key(i int) []byte { return fmt.Appendf(nil, "%s%d", g.prefix, i) }

// span draws a key range: one key, an interval, the whole prefix or every key from one on.
func (g *mvccOps) span(r *rand.Rand) (key, end []byte) {
	i := r.IntN(mvccKeys)
	switch x := r.IntN(10); {
	case x < 5:
		return g.key(i), nil
	case x < 8:
		return g.key(i), g.key(i + 1 + r.IntN(mvccKeys-i))
	case x < 9:
		return g.prefix, kv.Prefix(g.prefix)
	}
	return g.key(i), []byte{0}
}

// rel draws a placeholder for a revision up to back revisions before the client's last.
func rel(r *rand.Rand, back int) int64 { return int64(-1 - r.IntN(back)) }

func (g *mvccOps) rangeReq(r *rand.Rand, inTxn bool) *kv.RangeRequest {
	q := &kv.RangeRequest{}
	q.Key, q.RangeEnd = g.span(r)
	if r.IntN(3) == 0 {
		q.Limit = 1 + r.Int64N(3)
	}
	if !inTxn && r.IntN(4) == 0 || inTxn && r.IntN(6) == 0 {
		q.Revision = rel(r, 12)
	}
	if r.IntN(3) == 0 {
		q.SortOrder, q.SortTarget = kv.SortOrder(r.IntN(3)), kv.SortTarget(r.IntN(5))
	}
	switch r.IntN(10) {
	case 0:
		q.KeysOnly = true
	case 1:
		q.CountOnly = true
	}
	if r.IntN(6) == 0 {
		switch r.IntN(4) {
		case 0:
			q.MinModRevision = rel(r, 10)
		case 1:
			q.MaxModRevision = rel(r, 10)
		case 2:
			q.MinCreateRevision = rel(r, 10)
		default:
			q.MaxCreateRevision = rel(r, 10)
		}
	}
	return q
}

// put draws a put of key: with prevKV, with a lease of a slot, or keeping the value or
// the lease the key has.
func (g *mvccOps) put(r *rand.Rand, key []byte) *kv.PutRequest {
	p := &kv.PutRequest{Key: key, PrevKV: r.IntN(2) == 0}
	switch x := r.IntN(12); {
	case x < 1:
		p.IgnoreValue = true
	case x < 2:
		p.IgnoreLease, p.Value = true, g.value()
	case x < 6:
		p.Lease, p.Value = slotLease(r.IntN(leaseSlots)), g.value()
	default:
		p.Value = g.value()
	}
	return p
}

func (g *mvccOps) compare(r *rand.Rand) kv.Compare {
	c := kv.Compare{Result: kv.CompareResult(r.IntN(4)), Target: kv.CompareTarget(r.IntN(5)), Key: g.key(r.IntN(mvccKeys))}
	if r.IntN(6) == 0 {
		c.Key, c.RangeEnd = g.span(r)
	}
	switch c.Target {
	case kv.TargetVersion:
		c.Version = r.Int64N(4)
	case kv.TargetCreate:
		c.CreateRevision = [2]int64{0, rel(r, 15)}[r.IntN(2)]
	case kv.TargetMod:
		c.ModRevision = [2]int64{0, rel(r, 15)}[r.IntN(2)]
	case kv.TargetValue:
		// A recent value: some compares hit.
		c.Value = fmt.Appendf(nil, "v%d", max(1, g.n-r.IntN(8)))
	case kv.TargetLease:
		c.Lease = [2]kv.LeaseID{0, slotLease(r.IntN(leaseSlots))}[r.IntN(2)]
	}
	return c
}

// txn draws a txn; keys hands out the keys it may write, each once.
func (g *mvccOps) txn(r *rand.Rand, keys *[]int, depth int, writes bool) *kv.TxnRequest {
	t := &kv.TxnRequest{}
	for range r.IntN(3) {
		t.Compare = append(t.Compare, g.compare(r))
	}
	t.Success = g.txnOps(r, keys, depth, writes, 1+r.IntN(3))
	t.Failure = g.txnOps(r, keys, depth, writes, r.IntN(3))
	return t
}

func (g *mvccOps) txnOps(r *rand.Rand, keys *[]int, depth int, writes bool, n int) []kv.RequestOp {
	var ops []kv.RequestOp
	for range n {
		x := r.IntN(10)
		switch {
		case !writes || x < 3 || len(*keys) == 0:
			ops = append(ops, kv.RequestOp{Range: g.rangeReq(r, true)})
		case x < 6:
			ops = append(ops, kv.RequestOp{Put: g.put(r, g.key((*keys)[0]))})
			*keys = (*keys)[1:]
		case x < 9 || depth > 0:
			ops = append(ops, kv.RequestOp{DeleteRange: &kv.DeleteRangeRequest{Key: g.key((*keys)[0]), PrevKV: r.IntN(2) == 0}})
			*keys = (*keys)[1:]
		default:
			ops = append(ops, kv.RequestOp{Txn: g.txn(r, keys, depth+1, writes)})
		}
	}
	return ops
}

// conflicting draws a txn etcd refuses: a branch that writes a key twice, with two puts or
// a put inside a delete's range.
func (g *mvccOps) conflicting(r *rand.Rand) *kv.TxnRequest {
	i := r.IntN(mvccKeys)
	ops := []kv.RequestOp{{Put: g.put(r, g.key(i))}}
	if r.IntN(2) == 0 {
		ops = append(ops, kv.RequestOp{Put: g.put(r, g.key(i))})
	} else {
		ops = append(ops, kv.RequestOp{DeleteRange: &kv.DeleteRangeRequest{Key: g.key(max(0, i-1)), RangeEnd: g.key(i + 1)}})
	}
	if r.IntN(2) == 0 {
		ops[0], ops[1] = ops[1], ops[0]
	}
	t := &kv.TxnRequest{Compare: []kv.Compare{g.compare(r)}}
	if r.IntN(2) == 0 {
		t.Success = ops
	} else {
		t.Failure = ops
	}
	return t
}

func (g *mvccOps) Next(r *rand.Rand, _ int) sim.Op {
	var cmd kv.Command
	var q kv.Query
	var f string
	switch x := r.IntN(100); {
	case x < 20:
		f, q.Range = "Range", g.rangeReq(r, false)
	case x < 36:
		f, cmd.Put = "Put", g.put(r, g.key(r.IntN(mvccKeys)))
	case x < 45:
		key, end := g.span(r)
		f, cmd.DeleteRange = "DeleteRange", &kv.DeleteRangeRequest{Key: key, RangeEnd: end, PrevKV: r.IntN(2) == 0}
	case x < 64:
		keys := r.Perm(mvccKeys)
		f, cmd.Txn = "Txn", g.txn(r, &keys, 0, true)
	case x < 66:
		f, cmd.Txn = "Txn", g.conflicting(r)
	case x < 72:
		keys := r.Perm(mvccKeys)
		f, q.Txn = "ReadTxn", g.txn(r, &keys, 0, false)
	case x < 75:
		f, cmd.Compaction = "Compact", &kv.CompactionRequest{Revision: rel(r, 30) - 10}
	case x < 81:
		id := slotGrant(r.IntN(leaseSlots))
		if r.IntN(5) == 0 {
			id = slotLease(r.IntN(leaseSlots)) // the slot's own lease again: it exists
		}
		f, cmd.LeaseGrant = "LeaseGrant", &kv.LeaseGrantRequest{TTL: 1 + r.Int64N(3), ID: id}
	case x < 84:
		f, cmd.LeaseRevoke = "LeaseRevoke", &kv.LeaseRevokeRequest{ID: slotLease(r.IntN(leaseSlots))}
	case x < 93:
		f, q.KeepAlive = "LeaseKeepAlive", slotLease(r.IntN(leaseSlots))
	case x < 95:
		f, q.HashKV = "HashKV", &kv.HashKVRequest{Revision: [2]int64{0, rel(r, 20)}[r.IntN(2)]}
	case x < 99:
		f, q.TimeToLive = "LeaseTimeToLive", &kv.LeaseTimeToLiveRequest{ID: slotLease(r.IntN(leaseSlots)), Keys: r.IntN(4) != 0}
	default:
		// A watch request that does not decode, through a front: refused, and the
		// client's own watch lives on.
		return sim.Op{F: "BadWatch", Value: component.Null()}
	}
	if q.Range != nil || q.Txn != nil || q.KeepAlive != 0 || q.TimeToLive != nil || q.HashKV != nil {
		return sim.Op{F: f, Value: requestValue(describeQuery(&q), q.Encode())}
	}
	return sim.Op{F: f, Value: requestValue(describeCommand(&cmd), cmd.Encode())}
}

// requestValue is an operation's value: the request as text for people, then its binary
// form in base64 for the client (histories and scenarios hold text).
func requestValue(text string, bin []byte) component.Value {
	return component.List(component.Str(text), component.Str(base64.StdEncoding.EncodeToString(bin)))
}

// requestParts reads requestValue back: the request's text and its binary form.
func requestParts(v component.Value) (text string, bin []byte, ok bool) {
	list, ok := v.List()
	if !ok || len(list) != 2 {
		return "", nil, false
	}
	text, ok1 := list[0].Str()
	s, ok2 := list[1].Str()
	b, err := base64.StdEncoding.DecodeString(s)
	return text, b, ok1 && ok2 && err == nil
}

// Final: the client stops renewing its leases and waits for their keys to be gone.
func (g *mvccOps) Final(*rand.Rand, int) sim.Op {
	return sim.Op{F: "AwaitExpiry", Value: component.Null()}
}

// isMvccOp tells the mvcc workload's operations (etcd's RPC names) from the others.
func isMvccOp(f string) bool {
	switch f {
	case "Range", "Put", "DeleteRange", "Txn", "ReadTxn", "Compact", "LeaseGrant", "LeaseRevoke",
		"LeaseKeepAlive", "LeaseTimeToLive", "HashKV", "BadWatch", "AwaitExpiry":
		return true
	}
	return false
}

// isQuery tells the ops served outside raft.
func isQuery(f string) bool {
	switch f {
	case "Range", "ReadTxn", "LeaseKeepAlive", "LeaseTimeToLive", "HashKV":
		return true
	}
	return false
}
