package workload

import (
	"errors"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/orrery/orrery/node/client"
	"github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/kv"
)

// ProbeReadBetween marks a read-only transaction reported from its read at a revision
// between its first two: the path that sees inside a command split across revisions.
const ProbeReadBetween = "append.read-between"

// readPause bounds the pause of a read-only transaction between its first two reads.
const readPause = 40 * time.Millisecond

// appendClient runs list-append transactions on a client.Client, optimistically, as
// Jepsen's etcd test does.
//
// A transaction that appends first reads the keys it appends to (one read-only kv txn:
// one revision), then commits one kv txn whose compares require each of those keys' mod
// revision to be the one read (0 for an absent key), whose success branch writes each
// key's new list once, where its last append stands, and reads, in micro-op order, the
// keys the transaction reads. Its reads come from the txn itself, at its revision, after
// its own earlier writes. A failed compare means another write came between: the
// operation failed and wrote nothing. Keys only read need no compare, since the commit
// reads them.
//
// A read-only transaction reads its keys at the current revision F, pauses, reads them
// at the current revision G, and, when G > F+1, reads them once more at a revision drawn
// between the two, which it reports. That revision became current after the first read,
// so after the operation began, and before the second was served: it is a state the store
// held while the operation ran. It may also fall between the revisions of a command that
// should have had one: a store that splits a txn across revisions shows half of it there,
// while reads at the current revision only ever see whole commands.
type appendClient struct {
	cl   *client.Client
	r    *rand.Rand
	op   *component.Op // the operation in progress
	mops []mop
	read uint64 // the query in flight, for Forget; 0 when none
	out  []component.Effect
}

func newAppendClient(id component.NodeID, servers []component.NodeID, r *rand.Rand) *appendClient {
	return &appendClient{cl: client.New(client.Config{ID: id, Servers: servers, TimerID: 1}), r: r}
}

func (ac *appendClient) Handle(now time.Duration, in component.Input) []component.Effect {
	if !ac.cl.Handle(now, in) {
		switch in := in.(type) {
		case component.Invoke:
			ac.invoke(in.Op)
		case component.Cancel:
			ac.cancel(in.OpID)
		}
	}
	out := append(ac.out, ac.cl.Flush()...)
	ac.out = nil
	return out
}

func (ac *appendClient) invoke(op component.Op) {
	ac.op = &op
	mops, err := parseTxn(op.Value)
	switch {
	case err != nil:
		ac.complete(op.ID, component.Fail, op.Value)
	case slices.ContainsFunc(mops, func(m mop) bool { return m.append }):
		ac.mops = mops
		ac.readForWrite(op.ID)
	default:
		ac.mops = mops
		ac.readOnly(op.ID)
	}
}

// cancel: the world gave up on the operation. A read is dropped; a txn already sent
// stays queued in the client and may still commit, which is why the world records the
// operation as indefinite.
func (ac *appendClient) cancel(id uint64) {
	if !ac.current(id) {
		return
	}
	if ac.read != 0 {
		ac.cl.Forget(ac.read)
		ac.read = 0
	}
	ac.op = nil
}

func (ac *appendClient) current(id uint64) bool { return ac.op != nil && ac.op.ID == id }

func (ac *appendClient) complete(id uint64, outcome component.Outcome, v component.Value) {
	if !ac.current(id) {
		return
	}
	ac.op = nil
	ac.out = append(ac.out, component.Complete{OpID: id, Outcome: outcome, Value: v})
}

// query runs a linearizable read-only txn for the operation in progress; done runs only
// while it is still current.
func (ac *appendClient) query(id uint64, t *kv.TxnRequest, done func(*kv.TxnResponse, error)) {
	ac.read = ac.cl.Query(kv.Query{Txn: t}, false, func(a kv.Answer, err error) {
		if !ac.current(id) {
			return
		}
		ac.read = 0
		if err == nil && a.Txn == nil {
			err = client.ErrMalformed
		}
		done(a.Txn, err)
	})
}

// readOnly reads the keys at the current revision F, waits a little, reads them at the
// current revision G, and, when revisions passed between, once more at one in between.
func (ac *appendClient) readOnly(id uint64) {
	ac.query(id, ac.readTxn(0), func(first *kv.TxnResponse, err error) {
		if err != nil {
			ac.complete(id, component.Fail, ac.op.Value) // a read changes nothing: failing it is safe
			return
		}
		ac.cl.After(time.Duration(ac.r.Int64N(int64(readPause))), func() {
			if ac.current(id) {
				ac.readAgain(id, first.Header.Revision)
			}
		})
	})
}

func (ac *appendClient) readAgain(id uint64, from int64) {
	ac.query(id, ac.readTxn(0), func(now *kv.TxnResponse, err error) {
		if err != nil {
			ac.complete(id, component.Fail, ac.op.Value)
			return
		}
		reads := ac.readsOf(now)
		if now.Header.Revision-from < 2 {
			ac.complete(id, component.OK, txnValue(ac.mops, reads))
			return
		}
		at := from + 1 + ac.r.Int64N(now.Header.Revision-from-1)
		ac.query(id, ac.readTxn(at), func(between *kv.TxnResponse, err error) {
			if err == nil {
				reads = ac.readsOf(between)
				ac.out = append(ac.out, component.Probe{Name: ProbeReadBetween})
			}
			ac.complete(id, component.OK, txnValue(ac.mops, reads))
		})
	})
}

// readTxn reads every micro-op's key, in order, at revision rev (0: the current one).
func (ac *appendClient) readTxn(rev int64) *kv.TxnRequest {
	t := &kv.TxnRequest{}
	for _, m := range ac.mops {
		t.Success = append(t.Success, kv.RequestOp{Range: &kv.RangeRequest{Key: []byte(m.key), Revision: rev}})
	}
	return t
}

// readsOf maps a read-only transaction's micro-ops to the lists readTxn's ranges found.
func (ac *appendClient) readsOf(t *kv.TxnResponse) map[int][]string {
	reads := map[int][]string{}
	for i := range ac.mops {
		reads[i] = decodeList(t.Responses[i].Range.KVs)
	}
	return reads
}

// readForWrite reads the keys the transaction appends to, at one revision.
func (ac *appendClient) readForWrite(id uint64) {
	var keys []string
	for _, m := range ac.mops {
		if m.append && !slices.Contains(keys, m.key) {
			keys = append(keys, m.key)
		}
	}
	slices.Sort(keys)
	t := &kv.TxnRequest{}
	for _, k := range keys {
		t.Success = append(t.Success, kv.RequestOp{Range: &kv.RangeRequest{Key: []byte(k)}})
	}
	ac.query(id, t, func(resp *kv.TxnResponse, err error) {
		if err != nil {
			ac.complete(id, component.Fail, ac.op.Value)
			return
		}
		seen := make([]kv.KeyValue, len(keys)) // the zero KeyValue for an absent key
		for i := range keys {
			if kvs := resp.Responses[i].Range.KVs; len(kvs) > 0 {
				seen[i] = kvs[0]
			}
		}
		ac.commit(id, keys, seen)
	})
}

// commit sends the guarded txn built from the lists read.
func (ac *appendClient) commit(id uint64, keys []string, seen []kv.KeyValue) {
	t := kv.TxnRequest{}
	lists := map[string][]string{}
	last := map[string]int{} // key -> index of its last append
	for i, k := range keys {
		t.Compare = append(t.Compare, kv.Compare{Result: kv.CompareEqual, Target: kv.TargetMod, Key: []byte(k), ModRevision: seen[i].ModRevision})
		lists[k] = decodeList([]kv.KeyValue{seen[i]})
	}
	for i, m := range ac.mops {
		if m.append {
			last[m.key] = i
		}
	}
	readAt := make([]int, len(ac.mops)) // micro-op -> its range in the success branch; -1 for an append
	for i, m := range ac.mops {
		readAt[i] = -1
		switch {
		case !m.append:
			readAt[i] = len(t.Success)
			t.Success = append(t.Success, kv.RequestOp{Range: &kv.RangeRequest{Key: []byte(m.key)}})
		case last[m.key] == i:
			lists[m.key] = append(lists[m.key], ac.appendsTo(m.key)...)
			t.Success = append(t.Success, kv.RequestOp{Put: &kv.PutRequest{Key: []byte(m.key), Value: encodeList(lists[m.key])}})
		}
	}
	ac.cl.Txn(t, func(resp *kv.TxnResponse, err error) {
		if !ac.current(id) {
			return
		}
		switch {
		case errors.Is(err, client.ErrMalformed):
			return // the outcome is unknown: the world times the operation out as indefinite
		case err != nil || !resp.Succeeded:
			ac.complete(id, component.Fail, ac.op.Value)
			return
		}
		reads := map[int][]string{}
		for i, j := range readAt {
			if j >= 0 {
				reads[i] = decodeList(resp.Responses[j].Range.KVs)
			}
		}
		ac.complete(id, component.OK, txnValue(ac.mops, reads))
	})
}

// appendsTo lists the elements the transaction appends to key, in order.
func (ac *appendClient) appendsTo(key string) []string {
	var out []string
	for _, m := range ac.mops {
		if m.append && m.key == key {
			out = append(out, m.elem)
		}
	}
	return out
}
