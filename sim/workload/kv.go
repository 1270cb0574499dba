package workload

import (
	"fmt"
	"math/rand/v2"

	"github.com/orrery/orrery/checker/history"
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
		Name:        "kv",
		Description: "the MVCC store (node/kv) replicated by raft: gets (ReadIndex ranges), puts, deletes and CAS transactions, checked for linearizability; every client also watches all keys and its stream is checked for order, gaps and agreement",
		Bugs:        append(append(append(bugs.Catalog{}, raft.Bugs...), rsm.Bugs...), kv.Bugs...),
		Build: func(cfg Config) (sim.System, error) {
			storeCfg := kv.Config{Bugs: cfg.Bugs}
			sys, err := raftSystem("kv", cfg, func() rsm.Application { return kvserver.New(storeCfg) }, kvCodec{})
			keys := orDefault(cfg.Keys, 3)
			sys.Workload = func() sim.Generator { return &kvOps{regOps: regOps{keys: keys, written: map[string][]string{}}} }
			sys.Model = "kv"
			servers := serverIDs(sys.Servers)
			sys.Client = func(id component.NodeID, r *rand.Rand) component.Component {
				return newWatchingClient(id, servers, r)
			}
			sys.Invariants = checkWatches
			return sys, err
		},
	}
}

// kvCodec turns history operations into store commands.
type kvCodec struct{}

func (kvCodec) Encode(op component.Op) ([]byte, bool, bool) {
	key := []byte(op.Key)
	var cmd kv.Command
	switch op.F {
	case "get":
		q := kv.Query{Range: &kv.RangeRequest{Key: key}}
		return q.Encode(), true, true
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
func (kvCodec) Decode(op component.Op, result []byte) (history.Type, history.Value) {
	if op.F == "get" {
		a, err := kv.DecodeAnswer(result)
		switch {
		case err != nil || a.Err != nil || a.Range == nil:
			return history.Fail, op.Value
		case len(a.Range.KVs) == 0:
			return history.OK, history.Null()
		}
		return history.OK, history.Str(string(a.Range.KVs[0].Value))
	}
	r, err := kv.DecodeReply(result)
	switch {
	case err != nil || r.Err != nil:
		return history.Fail, op.Value
	case r.Txn != nil && !r.Txn.Succeeded:
		return history.Fail, op.Value
	case op.F == "delete":
		return history.OK, history.Null()
	}
	return history.OK, op.Value
}

// kvOps adds deletes to the register mix.
type kvOps struct{ regOps }

func (g *kvOps) Next(r *rand.Rand, c int) sim.Op {
	if r.IntN(8) == 0 {
		return sim.Op{F: "delete", Key: fmt.Sprintf("k%d", r.IntN(g.keys)), Value: history.Null()}
	}
	return g.regOps.Next(r, c)
}
