package workload

import (
	"errors"
	"math/rand/v2"

	"github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/sim"
)

// allWorkload runs the KV store's workloads together on one cluster, as production
// does: the kv mix, the lock recipe and the mvcc requests (on keys of their own) share the
// store, the revisions, the leases and the compactions, so each sees the others' traffic
// (lease expiries, lock writes and range deletes in every watcher's stream, kv txns
// between lock acquisitions, compactions under every watcher's rewinds).
func allWorkload() Workload {
	return Workload{
		Name: "all",
		Description: "the kv, lock and mvcc workloads at once on one cluster: clients in turn run the kv mix (watching the whole key space with rewinds), " +
			"take the lock, or send mvcc's requests on keys m0..m5 (watching everything); every other kv and mvcc client goes through a server's front, " +
			"which forwards its requests; checked by the kv model (kv operations), the watch checks, the lock checks and mvcc's reference",
		Bugs: kvBugs(),
		Build: func(cfg Config) (sim.System, error) {
			if cfg.Clients == 0 {
				cfg.Clients = 9
			}
			sys, err := storeSystem("all", cfg, lockTTL, kvCodec{}, followerReads)
			if err != nil {
				return sys, err
			}
			keys := orDefault(cfg.Keys, 3)
			servers := serverIDs(sys.Servers)
			sys.Client = func(id component.NodeID, r *rand.Rand) component.Component {
				c := int(id) - sys.Servers - 1
				switch c % 3 {
				case 1:
					return newLockClient(id, servers)
				case 2:
					m := newMvccClient(id, servers, r)
					m.key, m.end = []byte{0}, []byte{0} // every key, so no revision is missed
					m.minTTL = lockTTL
					if c/3%2 == 1 {
						m.Client.Front()
					}
					return m
				}
				w := newWatchingClient(id, servers, r, true)
				w.key, w.end = []byte{0}, []byte{0} // every key: lock keys too, so no revision is missed
				if c/3%2 == 1 {
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
					mvcc: &mvccOps{prefix: []byte("m")},
				}
			}
			sys.Model = "kv"
			sys.Checked = func(f string) bool { return !isLockOp(f) && !isMvccOp(f) }
			sys.Invariants = func(res sim.Result) error { return errors.Join(checkMvcc(res), checkLock(res)) }
			return sys, nil
		},
	}
}

// allOps hands the clients, in turn, the kv mix, the lock cycle and the mvcc requests.
type allOps struct {
	kv   *kvOps
	lock *lockOps
	mvcc *mvccOps
}

func (g *allOps) Next(r *rand.Rand, c int) sim.Op {
	switch c % 3 {
	case 1:
		return g.lock.Next(r, c)
	case 2:
		return g.mvcc.Next(r, c)
	}
	return g.kv.Next(r, c)
}

func (g *allOps) Final(r *rand.Rand, c int) sim.Op {
	switch c % 3 {
	case 1:
		return g.lock.Final(r, c)
	case 2:
		return g.mvcc.Final(r, c)
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
