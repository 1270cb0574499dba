package workload

import (
	"fmt"
	"math/rand/v2"

	"github.com/orrery/orrery/checker/history"
	"github.com/orrery/orrery/node/bugs"
	"github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/kv"
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
			sys, err := raftSystem("kv", cfg, func() rsm.Application { return &kvApp{store: kv.New(storeCfg), cfg: storeCfg} }, kvCodec{})
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

// kvApp adapts the MVCC store to rsm.Application. Results are short texts the codec reads:
// "ok", "fail" (a CAS whose comparison failed), "=value", "-" (absent) or "err:...".
type kvApp struct {
	store    *kv.Store
	cfg      kv.Config
	watchers map[uint64]int64 // client -> watch ID on this replica's hub
	owners   map[int64]uint64 // watch ID -> client
}

func (a *kvApp) Apply(b []byte) []byte {
	cmd, err := kv.DecodeCommand(b)
	if err != nil {
		panic(fmt.Sprintf("kv workload: committed command does not decode: %v", err))
	}
	res := a.store.Apply(cmd)
	switch {
	case res.Err != nil:
		return []byte("err:" + res.Err.Error())
	case res.Txn != nil && !res.Txn.Succeeded:
		return []byte("fail")
	}
	return []byte("ok")
}

func (a *kvApp) Read(key []byte) []byte {
	resp, err := a.store.Range(kv.RangeRequest{Key: key})
	switch {
	case err != nil:
		return []byte("err:" + err.Error())
	case len(resp.KVs) == 0:
		return []byte("-")
	}
	return append([]byte("="), resp.KVs[0].Value...)
}

func (a *kvApp) Snapshot() []byte { return a.store.Snapshot() }

func (a *kvApp) Restore(b []byte) error {
	s, err := kv.Restore(b, a.cfg)
	if err != nil {
		return err
	}
	// A snapshot replaces the store and its watch hub: the streams end, and their clients
	// reopen them.
	a.store, a.watchers, a.owners = s, nil, nil
	return nil
}

// kvCodec turns history operations into store commands.
type kvCodec struct{}

func (kvCodec) Encode(op component.Op) ([]byte, bool, bool) {
	key := []byte(op.Key)
	var cmd kv.Command
	switch op.F {
	case "get":
		return key, true, true
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

func (kvCodec) Decode(op component.Op, result []byte) (history.Type, history.Value) {
	if op.F == "delete" && string(result) == "ok" {
		return history.OK, history.Null()
	}
	return regCodec{}.Decode(op, result)
}

// kvOps adds deletes to the register mix.
type kvOps struct{ regOps }

func (g *kvOps) Next(r *rand.Rand, c int) sim.Op {
	if r.IntN(8) == 0 {
		return sim.Op{F: "delete", Key: fmt.Sprintf("k%d", r.IntN(g.keys)), Value: history.Null()}
	}
	return g.regOps.Next(r, c)
}
