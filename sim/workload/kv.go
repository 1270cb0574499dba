package workload

import (
	"fmt"
	"math/rand/v2"

	"github.com/orrery/orrery/node/bugs"
	"github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/kv"
	"github.com/orrery/orrery/node/kvserver"
	"github.com/orrery/orrery/node/raft"
	"github.com/orrery/orrery/node/rsm"
	"github.com/orrery/orrery/sim"
)

func kvWorkload() Workload {
	return Workload{
		Name: "kv",
		Description: "the MVCC store (node/kv) replicated by raft: gets (ReadIndex ranges), puts, deletes, CAS transactions, " +
			"multi-key txns and multi-key reads at one revision, checked for linearizability; every client also watches all keys " +
			"and its stream is checked for order, gaps, agreement per revision and the revisions of txns",
		Bugs:  kvBugs(),
		Build: func(cfg Config) (sim.System, error) { return kvSystem("kv", cfg, false) },
	}
}

// watchWorkload is kv with clients that also reopen their watch from random revisions
// they have seen, so that servers replay history, multi-event revisions included.
func watchWorkload() Workload {
	return Workload{
		Name: "watch",
		Description: "the kv workload with watchers that also reopen from random past revisions: " +
			"every replayed revision must match the one first delivered",
		Bugs:  kvBugs(),
		Build: func(cfg Config) (sim.System, error) { return kvSystem("watch", cfg, true) },
	}
}

func kvBugs() bugs.Catalog {
	return append(append(append(bugs.Catalog{}, raft.Bugs...), rsm.Bugs...), kv.Bugs...)
}

// storeSystem wires raft servers running the member application (the MVCC store and the
// leader's lessor, leases of at least minTTL seconds) and declares its fault points.
func storeSystem(name string, cfg Config, minTTL int64, codec rsm.Codec, tune ...func(*rsm.Config, *rand.Rand)) (sim.System, error) {
	storeCfg := kv.Config{MinLeaseTTL: minTTL, Bugs: cfg.Bugs}
	sys, err := raftSystem(name, cfg, func() rsm.Application { return kvserver.New(storeCfg) }, codec, tune...)
	sys.Points = sys.Points.With(kvserver.Points)
	return sys, err
}

// followerReads has half the servers serve linearizable reads themselves after a
// ReadIndex round through the leader (etcd's follower reads, what real members do); the
// others redirect reads to the leader. Keep-alives and time-to-live queries still go to
// the leader.
func followerReads(rc *rsm.Config, r *rand.Rand) { rc.FollowerReads = r.IntN(2) == 0 }

func kvSystem(name string, cfg Config, rewind bool) (sim.System, error) {
	sys, err := storeSystem(name, cfg, 0, kvCodec{})
	keys := orDefault(cfg.Keys, 3)
	sys.Workload = func() sim.Generator { return &kvOps{regOps: regOps{keys: keys, written: map[string][]string{}}} }
	sys.Model = "kv"
	servers := serverIDs(sys.Servers)
	sys.Client = func(id component.NodeID, r *rand.Rand) component.Component {
		return newWatchingClient(id, servers, r, rewind)
	}
	sys.Invariants = checkWatches
	return sys, err
}

// kvCodec turns client operations into store commands and results into completions.
type kvCodec struct{}

func (kvCodec) Encode(op component.Op) ([]byte, bool, bool) {
	key := []byte(op.Key)
	var cmd kv.Command
	switch op.F {
	case "get":
		q := kv.Query{Range: &kv.RangeRequest{Key: key}}
		return q.Encode(), true, true
	case "mget":
		q := kv.Query{Range: &kv.RangeRequest{Key: watchPrefix, RangeEnd: kv.Prefix(watchPrefix)}}
		return q.Encode(), true, true
	case "txn":
		pairs, ok := txnPairs(op.Value)
		if !ok {
			return nil, false, false
		}
		cmd.Txn = &kv.TxnRequest{}
		for _, p := range pairs {
			cmd.Txn.Success = append(cmd.Txn.Success, kv.RequestOp{Put: &kv.PutRequest{Key: []byte(p[0]), Value: []byte(p[1])}})
		}
	case "put":
		v, ok := op.Value.Str()
		if !ok {
			return nil, false, false
		}
		cmd.Put = &kv.PutRequest{Key: key, Value: []byte(v)}
	case "delete":
		cmd.DeleteRange = &kv.DeleteRangeRequest{Key: key}
	case "cas":
		old, nw, ok := casStrings(op)
		if !ok {
			return nil, false, false
		}
		cmd.Txn = &kv.TxnRequest{
			Compare: []kv.Compare{{Result: kv.CompareEqual, Target: kv.TargetValue, Key: key, Value: []byte(old)}},
			Success: []kv.RequestOp{{Put: &kv.PutRequest{Key: key, Value: []byte(nw)}}},
		}
	default:
		return nil, false, false
	}
	return cmd.Encode(), false, true
}

// Decode reads a reply (writes) or an answer (gets). A definite error is a failed
// operation; the workload's requests are valid, so none is expected.
func (kvCodec) Decode(op component.Op, result []byte) (component.Outcome, component.Value) {
	if op.F == "get" || op.F == "mget" {
		a, err := kv.DecodeAnswer(result)
		switch {
		case err != nil || a.Err != nil || a.Range == nil:
			return component.Fail, op.Value
		case op.F == "mget":
			return component.OK, readValues(op.Value, a.Range.KVs)
		case len(a.Range.KVs) == 0:
			return component.OK, component.Null()
		}
		return component.OK, component.Str(string(a.Range.KVs[0].Value))
	}
	r, err := kv.DecodeReply(result)
	switch {
	case err != nil || r.Err != nil:
		return component.Fail, op.Value
	case r.Txn != nil && !r.Txn.Succeeded:
		return component.Fail, op.Value
	case op.F == "delete":
		return component.OK, component.Null()
	}
	return component.OK, op.Value
}

// readValues turns a range's result into an mget's: the value of each key asked for (a
// list of key strings), in order, null for an absent key.
func readValues(keys component.Value, kvs []kv.KeyValue) component.Value {
	list, _ := keys.List()
	out := make([]component.Value, len(list))
	for i, k := range list {
		ks, _ := k.Str()
		out[i] = component.Null()
		for _, e := range kvs {
			if string(e.Key) == ks {
				out[i] = component.Str(string(e.Value))
			}
		}
	}
	return component.List(out...)
}

// txnPairs reads a txn's value, [[key, value], ...].
func txnPairs(v component.Value) ([][2]string, bool) {
	list, ok := v.List()
	if !ok || len(list) == 0 {
		return nil, false
	}
	out := make([][2]string, len(list))
	for i, item := range list {
		pair, ok := item.List()
		if !ok || len(pair) != 2 {
			return nil, false
		}
		k, ok1 := pair[0].Str()
		val, ok2 := pair[1].Str()
		if !ok1 || !ok2 {
			return nil, false
		}
		out[i] = [2]string{k, val}
	}
	return out, true
}

// kvOps adds deletes, multi-key txns (2 or 3 distinct keys, fresh values) and reads of
// every key at one revision (mget) to the register mix.
type kvOps struct{ regOps }

func (g *kvOps) Next(r *rand.Rand, c int) sim.Op {
	switch x := r.IntN(16); {
	case x < 2:
		return sim.Op{F: "delete", Key: fmt.Sprintf("k%d", r.IntN(g.keys)), Value: component.Null()}
	case x < 4 && g.keys >= 2:
		return g.txn(r)
	case x < 6 && g.keys >= 2:
		return g.mget()
	}
	return g.regOps.Next(r, c)
}

func (g *kvOps) txn(r *rand.Rand) sim.Op {
	n := min(g.keys, 2+r.IntN(2))
	var pairs []component.Value
	for _, i := range r.Perm(g.keys)[:n] {
		key := fmt.Sprintf("k%d", i)
		v := g.fresh()
		s, _ := v.Str()
		g.written[key] = append(g.written[key], s)
		pairs = append(pairs, component.List(component.Str(key), v))
	}
	return sim.Op{F: "txn", Value: component.List(pairs...)}
}

func (g *kvOps) mget() sim.Op {
	keys := make([]component.Value, g.keys)
	for i := range keys {
		keys[i] = component.Str(fmt.Sprintf("k%d", i))
	}
	return sim.Op{F: "mget", Value: component.List(keys...)}
}
