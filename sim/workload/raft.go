package workload

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/orrery/orrery/node/bugs"
	"github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/raft"
	"github.com/orrery/orrery/node/rsm"
	"github.com/orrery/orrery/sim"
)

// raftSystem wires n raft servers running app and clients speaking codec.
func raftSystem(name string, cfg Config, newApp func() rsm.Application, codec rsm.Codec, tune ...func(*rsm.Config, *rand.Rand)) (sim.System, error) {
	n := orDefault(cfg.Nodes, 3)
	if n < 1 {
		return sim.System{}, fmt.Errorf("workload %s: needs at least one node", name)
	}
	servers := serverIDs(n)
	b := cfg.Bugs
	return sim.System{
		Name:    name,
		Servers: n,
		Clients: orDefault(cfg.Clients, 4),
		Server: func(id component.NodeID, r *rand.Rand) component.Component {
			rc := rsm.Config{
				ID: id, Peers: servers, Tick: 10 * time.Millisecond, ElectionTick: 10, HeartbeatTick: 1,
				SnapshotEvery: 40, Keep: 10, NewApp: newApp, Bugs: b,
				// Swarm the flow control per process: one entry per append (so a follower
				// can hold an old-term entry without the new leader's entry after it, the
				// raft paper's figure 8), small windows, or etcd-like batches.
				MaxSizePerMsg:   []uint64{1, 1, 256, 64 << 10}[r.IntN(4)],
				MaxInflightMsgs: []int{1, 4, 64}[r.IntN(3)],
			}
			for _, t := range tune {
				t(&rc, r)
			}
			return rsm.NewServer(rc, r)
		},
		Client: func(id component.NodeID, _ *rand.Rand) component.Component {
			return rsm.NewClient(id, servers, codec, 150*time.Millisecond)
		},
		Points: rsm.Points,
		Wire:   rsm.RoundTrip,
		// Raft syncs exactly when a Ready holds entries, a new hard state or a snapshot.
		StrictSyncs: true,
	}, nil
}

func raftregWorkload() Workload {
	return Workload{
		Name:        "raftreg",
		Description: "registers replicated by raft: gets (ReadIndex), puts and CAS on a few keys, checked for linearizability",
		Bugs:        raft.Bugs,
		Build: func(cfg Config) (sim.System, error) {
			sys, err := raftSystem("raftreg", cfg, func() rsm.Application { return newRegApp() }, regCodec{})
			keys := orDefault(cfg.Keys, 3)
			sys.Workload = func() sim.Generator { return &regOps{keys: keys, written: map[string][]string{}} }
			sys.Model = "register"
			return sys, err
		},
	}
}

// regOps draws gets, puts of unique values and CAS from a value once written to the key
// (so that some CAS succeed) to a unique new value.
type regOps struct {
	keys    int
	n       int
	written map[string][]string
}

func (g *regOps) fresh() component.Value {
	g.n++
	return component.Str(fmt.Sprintf("v%d", g.n))
}

func (g *regOps) Next(r *rand.Rand, _ int) sim.Op {
	key := fmt.Sprintf("k%d", r.IntN(g.keys))
	switch x := r.IntN(10); {
	case x < 4:
		return sim.Op{F: "get", Key: key, Value: component.Null()}
	case x < 8 || len(g.written[key]) == 0:
		v := g.fresh()
		s, _ := v.Str()
		g.written[key] = append(g.written[key], s)
		return sim.Op{F: "put", Key: key, Value: v}
	default:
		old := g.written[key][r.IntN(len(g.written[key]))]
		v := g.fresh()
		s, _ := v.Str()
		g.written[key] = append(g.written[key], s)
		return sim.Op{F: "cas", Key: key, Value: component.List(component.Str(old), v)}
	}
}

func (g *regOps) Final(_ *rand.Rand, client int) sim.Op {
	return sim.Op{F: "get", Key: fmt.Sprintf("k%d", client%g.keys), Value: component.Null()}
}

func raftlogWorkload() Workload {
	// read-without-quorum needs reads to show; this workload only appends.
	var catalog bugs.Catalog
	for _, b := range raft.Bugs {
		if b.Name != raft.BugReadWithoutQuorum {
			catalog = append(catalog, b)
		}
	}
	return Workload{
		Name:        "raftlog",
		Description: "clients append unique values to a raft log; checks that every node applies the same entry at each index, that acknowledged appends are never lost, and that positions respect real time",
		Bugs:        catalog,
		Build: func(cfg Config) (sim.System, error) {
			sys, err := raftSystem("raftlog", cfg, func() rsm.Application { return &logApp{} }, logCodec{})
			sys.Workload = func() sim.Generator { return &logOps{} }
			sys.Invariants = checkRaftLog
			return sys, err
		},
	}
}

type logOps struct{ n int }

func (g *logOps) Next(*rand.Rand, int) sim.Op {
	g.n++
	return sim.Op{F: "append", Key: "log", Value: component.Str(fmt.Sprintf("a%d", g.n))}
}

func (g *logOps) Final(r *rand.Rand, c int) sim.Op { return g.Next(r, c) }

type logCodec struct{}

func (logCodec) Encode(op component.Op) ([]byte, bool, bool) {
	v, ok := op.Value.Str()
	return []byte(v), false, op.F == "append" && ok
}

// Decode records the position the append got as the completion's value.
func (logCodec) Decode(_ component.Op, result []byte) (component.Outcome, component.Value) {
	return component.OK, component.Str(string(result))
}
