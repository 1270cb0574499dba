package workload

import (
	"errors"
	"math/rand/v2"

	"github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/kv"
	"github.com/orrery/orrery/node/kvserver"
	"github.com/orrery/orrery/node/rsm"
	"github.com/orrery/orrery/sim"
)

// allWorkload runs the KV store's workloads together on one cluster, as production
// does: the kv mix and the lock recipe share the store, the revisions and the leases, so
// each sees the other's traffic (lease expiries and lock writes in every watcher's
// stream, kv txns between lock acquisitions).
func allWorkload() Workload {
	return Workload{
		Name: "all",
		Description: "the kv and lock workloads at once on one cluster: even clients run the kv mix and watch the whole key space " +
			"(with rewinds; every other one through a server's front, which forwards its requests), odd clients take the lock; checked by the kv model (kv operations), the watch checks and the lock checks",
		Bugs: kvBugs(),
		Build: func(cfg Config) (sim.System, error) {
			storeCfg := kv.Config{MinLeaseTTL: lockTTL, Bugs: cfg.Bugs}
			if cfg.Clients == 0 {
				cfg.Clients = 6
			}
			// Half the servers serve linearizable reads themselves after a ReadIndex
			// round through the leader (etcd's follower reads, what real members do); the
			// others redirect reads to the leader.
			followerReads := func(rc *rsm.Config, r *rand.Rand) { rc.FollowerReads = r.IntN(2) == 0 }
			sys, err := raftSystem("all", cfg, func() rsm.Application { return kvserver.New(storeCfg) }, kvCodec{}, followerReads)
			sys.Points = sys.Points.With(kvserver.Points)
			if err != nil {
				return sys, err
			}
			keys := orDefault(cfg.Keys, 3)
			servers := serverIDs(sys.Servers)
			sys.Client = func(id component.NodeID, r *rand.Rand) component.Component {
				if (int(id)-sys.Servers-1)%2 == 1 {
					return newLockClient(id, servers)
				}
				w := newWatchingClient(id, servers, r, true)
				w.key, w.end = []byte{0}, []byte{0} // every key: lock keys too, so no revision is missed
				if (int(id)-sys.Servers-1)%4 == 2 {
					// Every other kv client talks to one server's front, as a real
					// member's gRPC clients do: the server forwards, resends and answers.
					w.Client.Front()
				}
				return w
			}
			sys.Workload = func() sim.Generator {
				return &allOps{
					kv:   &kvOps{regOps: regOps{keys: keys, written: map[string][]string{}}},
					lock: &lockOps{step: map[int]int{}},
				}
			}
			sys.Model = "kv"
			sys.Checked = func(f string) bool { return !isLockOp(f) }
			sys.Invariants = func(res sim.Result) error { return errors.Join(checkWatches(res), checkLock(res)) }
			return sys, nil
		},
	}
}

// allOps hands even clients the kv mix and odd clients the lock cycle.
type allOps struct {
	kv   *kvOps
	lock *lockOps
}

func (g *allOps) Next(r *rand.Rand, c int) sim.Op {
	if c%2 == 1 {
		return g.lock.Next(r, c)
	}
	return g.kv.Next(r, c)
}

func (g *allOps) Final(r *rand.Rand, c int) sim.Op {
	if c%2 == 1 {
		return g.lock.Final(r, c)
	}
	return g.kv.Final(r, c)
}

func isLockOp(f string) bool {
	switch f {
	case "acquire", "write", "release", "cycle":
		return true
	}
	return false
}
