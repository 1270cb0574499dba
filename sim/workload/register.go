package workload

import (
	"fmt"
	"math/rand/v2"

	"github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/register"
	"github.com/orrery/orrery/sim"
)

func registerWorkload() Workload {
	return Workload{
		Name:        "register",
		Description: "multi-writer ABD atomic register: random gets and puts of unique values on a few keys",
		Bugs:        register.Bugs,
		Build:       buildRegister,
	}
}

func buildRegister(cfg Config) (sim.System, error) {
	n := orDefault(cfg.Nodes, 5)
	if n < 3 {
		return sim.System{}, fmt.Errorf("workload register: needs at least 3 nodes to survive a fault, got %d", n)
	}
	replicas := serverIDs(n)
	b := cfg.Bugs
	return sim.System{
		Name:    "register",
		Servers: n,
		Clients: orDefault(cfg.Clients, 4),
		Server: func(id component.NodeID, r *rand.Rand) component.Component {
			return register.NewReplica(id, replicas, r)
		},
		Client: func(id component.NodeID, _ *rand.Rand) component.Component {
			return register.NewClient(id, replicas, b)
		},
		Workload: func() sim.Generator { return &RegisterOps{Keys: orDefault(cfg.Keys, 3)} },
		Model:    "register",
	}, nil
}

// RegisterOps draws gets and puts on Keys keys; every put writes a value never written
// before, which makes lost and stale writes visible to the checker.
type RegisterOps struct {
	Keys    int
	written int
}

// Next implements sim.Generator.
func (g *RegisterOps) Next(r *rand.Rand, _ int) sim.Op {
	key := fmt.Sprintf("k%d", r.IntN(g.Keys))
	if r.IntN(2) == 0 {
		return sim.Op{F: "get", Key: key, Value: component.Null()}
	}
	g.written++
	return sim.Op{F: "put", Key: key, Value: component.Str(fmt.Sprintf("v%d", g.written))}
}

// Final implements sim.Generator: after the faults every client reads one key.
func (g *RegisterOps) Final(_ *rand.Rand, client int) sim.Op {
	return sim.Op{F: "get", Key: fmt.Sprintf("k%d", client%g.Keys), Value: component.Null()}
}
