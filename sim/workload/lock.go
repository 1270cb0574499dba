package workload

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/orrery/orrery/node/bugs"
	"github.com/orrery/orrery/node/client"
	"github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/kv"
	"github.com/orrery/orrery/node/raft"
	"github.com/orrery/orrery/node/rsm"
	"github.com/orrery/orrery/sim"
)

// The lock workload: clients take a Mutex (node/client) on "lock/", do fenced writes to
// "resource" while they hold it, and release it. Each client keeps one session lease of
// lockTTL seconds alive for as long as it can (a new one when the old is lost), so leases
// outlive their TTL and leader changes happen while they are held. checkLock holds the
// run to the lock's promises and to the lease's.

const (
	lockTTL    = 2 // seconds: short, so that leases live through leader changes
	lockPrefix = "lock/"
)

var lockResource = []byte("resource")

func lockWorkload() Workload {
	return Workload{
		Name:        "lock",
		Description: "clients take a lease-backed mutex (node/client's etcd-style recipe) on the replicated MVCC store, write a shared key fenced by the lock's create revision, and release it; checks fencing tokens, mutual exclusion while locks were held, and that no lease expires before a keep-alive's promise",
		Bugs:        append(append(append(bugs.Catalog{}, raft.Bugs...), rsm.Bugs...), kv.Bugs...),
		Build: func(cfg Config) (sim.System, error) {
			sys, err := storeSystem("lock", cfg, lockTTL, nil)
			servers := serverIDs(sys.Servers)
			sys.Client = func(id component.NodeID, _ *rand.Rand) component.Component {
				return newLockClient(id, servers)
			}
			sys.Workload = func() sim.Generator { return &lockOps{step: map[int]int{}} }
			sys.Invariants = checkLock
			return sys, err
		},
	}
}

// lockOps gives each client the cycle acquire, write, write, release; a client that did
// not get the lock fails the writes and the release at once. The final operation is a
// whole cycle, which must complete once the faults stop.
type lockOps struct{ step map[int]int }

var lockCycle = []string{"acquire", "write", "write", "release"}

func (g *lockOps) Next(_ *rand.Rand, c int) sim.Op {
	f := lockCycle[g.step[c]%len(lockCycle)]
	g.step[c]++
	return sim.Op{F: f, Key: lockPrefix, Value: component.Null()}
}

func (g *lockOps) Final(*rand.Rand, int) sim.Op {
	return sim.Op{F: "cycle", Key: lockPrefix, Value: component.Null()}
}

// lockClient runs one client's operations on a client.Client. Completions and
// observations collect in out until the input is handled.
type lockClient struct {
	cl      *client.Client
	sess    *client.Session
	mu      *client.Mutex
	op      *component.Op // the operation in progress
	writes  int           // fenced writes so far, for unique values
	out     []component.Effect
	waiting []func(*client.Session) // callers of withSession while a grant is on its way
}

func newLockClient(id component.NodeID, servers []component.NodeID) *lockClient {
	return &lockClient{cl: client.New(client.Config{ID: id, Servers: servers, TimerID: 1})}
}

func (lc *lockClient) Handle(now time.Duration, in component.Input) []component.Effect {
	if !lc.cl.Handle(now, in) {
		switch in := in.(type) {
		case component.Invoke:
			lc.invoke(in.Op)
		case component.Cancel:
			lc.cancel(in.OpID)
		}
	}
	out := append(lc.out, lc.cl.Flush()...)
	lc.out = nil
	return out
}

func (lc *lockClient) held() bool { return lc.mu != nil && lc.mu.Held() }

func (lc *lockClient) invoke(op component.Op) {
	lc.op = &op
	switch {
	case op.F == "acquire" && !lc.held():
		lc.acquire(op.ID, func(token int64, err error) { lc.complete(op.ID, token, err) })
	case op.F == "write" && lc.held():
		lc.write(op.ID, func(token int64, err error) { lc.complete(op.ID, token, err) })
	case op.F == "release" && lc.held():
		lc.release(op.ID, func(token int64, err error) { lc.complete(op.ID, token, err) })
	case op.F == "cycle":
		lc.cycle(op.ID)
	default:
		lc.complete(op.ID, 0, client.ErrNotHeld)
	}
}

// cancel: the world gave up on the operation. An acquisition in progress is abandoned
// (its key deleted); writes already sent stay queued and may still happen.
func (lc *lockClient) cancel(id uint64) {
	if lc.op == nil || lc.op.ID != id {
		return
	}
	if lc.op.F == "acquire" && lc.mu != nil && !lc.mu.Held() {
		lc.mu.Abort()
		lc.mu = nil
	}
	lc.op = nil
}

func (lc *lockClient) current(id uint64) bool { return lc.op != nil && lc.op.ID == id }

func (lc *lockClient) complete(id uint64, token int64, err error) {
	if !lc.current(id) {
		return
	}
	lc.op = nil
	if err != nil {
		lc.out = append(lc.out, component.Complete{OpID: id, Outcome: component.Fail, Value: component.Null()})
		return
	}
	lc.out = append(lc.out, component.Complete{OpID: id, Outcome: component.OK, Value: component.Str(strconv.FormatInt(token, 10))})
}

func (lc *lockClient) observe(kind, format string, args ...any) {
	lc.out = append(lc.out, component.Observe{Kind: kind, Value: fmt.Sprintf(format, args...)})
}

// withSession runs fn with a live session, granting a new lease if there is none.
func (lc *lockClient) withSession(fn func(*client.Session, error)) {
	if lc.sess != nil && !lc.sess.Lost() {
		fn(lc.sess, nil)
		return
	}
	lc.sess = nil
	client.NewSession(lc.cl, lockTTL, func(s *client.Session, err error) {
		if err == nil {
			lc.sess = s
			s.OnKeepAlive = func(id kv.LeaseID, sent time.Duration, ttl int64) {
				// The client's clock is the true one: the simulator skews servers only.
				lc.observe("keepalive", "%d sent=%d ttl=%d", id, sent, ttl)
			}
		}
		fn(s, err)
	})
}

func (lc *lockClient) acquire(id uint64, done func(int64, error)) {
	lc.withSession(func(s *client.Session, err error) {
		if err != nil || !lc.current(id) {
			done(0, err)
			return
		}
		lc.mu = client.NewMutex(s, lockPrefix)
		lc.mu.Lock(func(token int64, err error) {
			if err == nil {
				lc.observe("acquired", "token=%d lease=%d", token, s.Lease())
			}
			done(token, err)
		})
	})
}

func (lc *lockClient) write(id uint64, done func(int64, error)) {
	mu := lc.mu
	token := mu.Token()
	lc.writes++
	value := fmt.Sprintf("%d:%d", token, lc.writes)
	put := kv.RequestOp{Put: &kv.PutRequest{Key: lockResource, Value: []byte(value)}}
	mu.Fenced([]kv.RequestOp{put}, func(t *kv.TxnResponse, err error) {
		if err == nil {
			lc.observe("fenced", "token=%d rev=%d", token, t.Header.Revision)
		}
		done(token, err)
	})
}

func (lc *lockClient) release(id uint64, done func(int64, error)) {
	mu := lc.mu
	token := mu.Token()
	lc.observe("releasing", "token=%d", token)
	mu.Unlock(func(err error) {
		if err == nil {
			lc.observe("released", "token=%d", token)
		}
		done(token, err)
	})
}

// cycle releases what the client holds, then acquires, writes once and releases,
// starting over until one round succeeds.
func (lc *lockClient) cycle(id uint64) {
	if lc.held() {
		lc.release(id, func(int64, error) { lc.cycle(id) })
		return
	}
	retry := func(err error) bool {
		if err != nil && lc.current(id) {
			if lc.mu != nil && !errors.Is(err, client.ErrSessionExpired) {
				lc.mu.Abort()
			}
			lc.cycle(id)
			return true
		}
		return !lc.current(id)
	}
	lc.acquire(id, func(_ int64, err error) {
		if retry(err) {
			return
		}
		lc.write(id, func(_ int64, err error) {
			if retry(err) {
				return
			}
			lc.release(id, func(token int64, err error) {
				if retry(err) {
					return
				}
				lc.complete(id, token, nil)
			})
		})
	})
}
