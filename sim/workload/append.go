package workload

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/orrery/orrery/checker/elle"
	"github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/kv"
	"github.com/orrery/orrery/sim"
)

// The append workload is Jepsen's list-append test on the replicated MVCC store: every
// operation is a transaction of 1-4 micro-ops, appends of unique elements to the lists at
// a few keys and reads of whole lists, and checker/elle judges the history for strict
// serializability. A list is stored as its elements joined by commas; an absent key is
// the empty list.

func appendWorkload() Workload {
	return Workload{
		Name: "append",
		Description: "list-append transactions (Jepsen's, as its etcd test runs them) on the MVCC store replicated by raft: " +
			"a transaction that appends reads the keys it appends to, then commits one kv txn guarded by their mod " +
			"revisions that writes the new lists and does its reads; a read-only one reads at the current revision " +
			"twice, a pause apart, then at a revision in between (where a txn split across revisions shows half done); " +
			"half the servers serve reads as followers; checked for strict serializability by checker/elle (G0, G1a-c, " +
			"G-single, G2, their realtime forms, and reads no order explains)",
		Bugs: kvBugs(),
		Build: func(cfg Config) (sim.System, error) {
			sys, err := storeSystem("append", cfg, 0, nil, followerReads)
			sys.Points = sys.Points.With(component.Points{Probes: []string{ProbeReadBetween}})
			keys := orDefault(cfg.Keys, 5)
			servers := serverIDs(sys.Servers)
			sys.Client = func(id component.NodeID, r *rand.Rand) component.Component {
				return newAppendClient(id, servers, r)
			}
			sys.Workload = func() sim.Generator { return &appendOps{keys: keys, next: map[string]int{}} }
			sys.Invariants = checkAppend
			return sys, err
		},
	}
}

// appendReported bounds the anomalies a failing run's problem line names.
const appendReported = 3

// checkAppend holds the history to strict serializability.
func checkAppend(res sim.Result) error {
	r, err := elle.Check(res.History)
	if err != nil {
		return fmt.Errorf("append history: %w", err)
	}
	if r.StrictSerializable {
		return nil
	}
	verdict := "not serializable"
	if r.Serializable {
		verdict = "not strict serializable"
	}
	return fmt.Errorf("%s (%d anomalies in %d transactions): %s", verdict, len(r.Anomalies), r.Txns,
		strings.ReplaceAll(r.Report(appendReported), "\n", "; "))
}

// appendOps draws transactions of 1-4 micro-ops over keys k0..k<keys-1>, half appends,
// half reads. Elements count up per key from 1, so each is appended once. A transaction
// never reads a key between two of its own appends to it: the client writes each key once
// per kv txn (the store refuses a txn that puts a key twice), so such a read would have no
// state of the store to come from. The final operation reads every key.
type appendOps struct {
	keys int
	next map[string]int // key -> last element drawn
}

func (g *appendOps) Next(r *rand.Rand, _ int) sim.Op {
	var mops []component.Value
	appended, readAfter := map[string]bool{}, map[string]bool{}
	for range 1 + r.IntN(4) {
		key := fmt.Sprintf("k%d", r.IntN(g.keys))
		if r.IntN(2) == 0 || readAfter[key] {
			mops = append(mops, readMop(key, component.Null()))
			readAfter[key] = appended[key]
			continue
		}
		g.next[key]++
		appended[key] = true
		mops = append(mops, appendMop(key, fmt.Sprint(g.next[key])))
	}
	return sim.Op{F: elle.F, Value: component.List(mops...)}
}

func (g *appendOps) Final(*rand.Rand, int) sim.Op {
	mops := make([]component.Value, g.keys)
	for i := range mops {
		mops[i] = readMop(fmt.Sprintf("k%d", i), component.Null())
	}
	return sim.Op{F: elle.F, Value: component.List(mops...)}
}

func readMop(key string, list component.Value) component.Value {
	return component.List(component.Str(elle.FRead), component.Str(key), list)
}

func appendMop(key, elem string) component.Value {
	return component.List(component.Str(elle.FAppend), component.Str(key), component.Str(elem))
}

// mop is a micro-op as the client runs it.
type mop struct {
	append    bool
	key, elem string
}

// parseTxn reads an operation's micro-ops (the generator's own shape).
func parseTxn(v component.Value) ([]mop, error) {
	list, _ := v.List()
	out := make([]mop, len(list))
	for i, item := range list {
		triple, _ := item.List()
		if len(triple) != 3 {
			return nil, errors.New("append: micro-op is not [f, key, value]")
		}
		f, _ := triple[0].Str()
		key, _ := triple[1].Str()
		elem, _ := triple[2].Str()
		out[i] = mop{append: f == elle.FAppend, key: key, elem: elem}
	}
	if len(out) == 0 {
		return nil, errors.New("append: empty transaction")
	}
	return out, nil
}

// txnValue is the completion's value: the micro-ops with the lists read.
func txnValue(mops []mop, reads map[int][]string) component.Value {
	out := make([]component.Value, len(mops))
	for i, m := range mops {
		if m.append {
			out[i] = appendMop(m.key, m.elem)
			continue
		}
		elems := make([]component.Value, len(reads[i]))
		for j, e := range reads[i] {
			elems[j] = component.Str(e)
		}
		out[i] = readMop(m.key, component.List(elems...))
	}
	return component.List(out...)
}

// The store's form of a list.
func encodeList(l []string) []byte { return []byte(strings.Join(l, ",")) }

func decodeList(kvs []kv.KeyValue) []string {
	if len(kvs) == 0 || len(kvs[0].Value) == 0 {
		return []string{}
	}
	return strings.Split(string(kvs[0].Value), ",")
}
