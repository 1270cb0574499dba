package jepsen

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/orrery/orrery/checker"
	"github.com/orrery/orrery/checker/elle"
	"github.com/orrery/orrery/checker/history"
)

const appendPrefix = "append/"

// appendWorkload is Jepsen's list-append over etcd's API, judged by checker/elle: each
// operation is a transaction of 1-4 appends and reads over a few keys, each key a
// comma-separated list of unique elements. A transaction reads every key it touches at
// one revision, then commits one etcd txn whose compares require each of those keys'
// mod revisions unchanged and whose puts write the extended lists: optimistic
// concurrency, the way etcd's STM runs transactions. A failed compare fails the
// operation (it definitely did not happen); a read-only transaction is its snapshot read.
type appendWorkload struct {
	keys int
	next atomic.Int64 // elements are unique over the run, hence per key
}

func (w *appendWorkload) open(context.Context, *env) error { return nil }
func (w *appendWorkload) closeClient(*client)              {}

func (w *appendWorkload) key(i int) string { return fmt.Sprintf("k%d", i) }

// gen draws a transaction: 1-4 micro-ops, each a read or an append of a fresh element;
// a key is appended to at most once per transaction (one put per key).
func (w *appendWorkload) gen(c *client) []elle.Mop {
	n := 1 + c.rng.Intn(4)
	appended := map[string]bool{}
	var mops []elle.Mop
	for range n {
		k := w.key(c.rng.Intn(w.keys))
		if c.rng.Intn(2) == 0 && !appended[k] {
			appended[k] = true
			mops = append(mops, elle.Mop{Append: true, Key: k, Elem: strconv.FormatInt(w.next.Add(1), 10)})
			continue
		}
		mops = append(mops, elle.Mop{Key: k})
	}
	return mops
}

func (w *appendWorkload) op(ctx context.Context, c *client) {
	mops := w.gen(c)
	c.do(ctx, elle.F, "", elle.Encode(mops), func(ctx context.Context) result { return runAppendTxn(ctx, c.cli, mops) })
}

// runAppendTxn runs one transaction and fills in its reads.
func runAppendTxn(ctx context.Context, cli *clientv3.Client, mops []elle.Mop) result {
	in := elle.Encode(mops)
	var keys []string
	writes := false
	for _, m := range mops {
		if !slices.Contains(keys, m.Key) {
			keys = append(keys, m.Key)
		}
		writes = writes || m.Append
	}
	// One consistent snapshot of every key touched.
	var gets []clientv3.Op
	for _, k := range keys {
		gets = append(gets, clientv3.OpGet(appendPrefix+k))
	}
	snap, err := cli.Txn(ctx).Then(gets...).Commit()
	if err != nil {
		return failed(err, !writes, in)
	}
	lists := map[string][]string{}
	modRev := map[string]int64{}
	for i, r := range snap.Responses {
		kvs := r.GetResponseRange().Kvs
		if len(kvs) == 1 {
			lists[keys[i]] = splitList(string(kvs[0].Value))
			modRev[keys[i]] = kvs[0].ModRevision
		}
	}
	out := make([]elle.Mop, len(mops))
	for i, m := range mops {
		if m.Append {
			lists[m.Key] = append(slices.Clone(lists[m.Key]), m.Elem)
			out[i] = m
			continue
		}
		out[i] = elle.Mop{Key: m.Key, Read: slices.Clone(lists[m.Key]), Known: true}
		if out[i].Read == nil {
			out[i].Read = []string{}
		}
	}
	rev := snap.Header.Revision
	if !writes {
		r := okResult(elle.Encode(out))
		r.extra = revExtra(rev)
		return r
	}
	// Commit only if nothing this transaction read has changed since the snapshot: every
	// key it touched, read or appended, keeps its mod revision (0: still absent).
	var cmps []clientv3.Cmp
	var puts []clientv3.Op
	for _, k := range keys {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(appendPrefix+k), "=", modRev[k]))
	}
	for _, m := range mops {
		if m.Append {
			puts = append(puts, clientv3.OpPut(appendPrefix+m.Key, strings.Join(lists[m.Key], ",")))
		}
	}
	resp, err := cli.Txn(ctx).If(cmps...).Then(puts...).Commit()
	switch {
	case err != nil:
		return failed(err, false, in)
	case !resp.Succeeded:
		r := result{typ: history.Fail, value: in}
		r.extra = revExtra(resp.Header.Revision)
		return r
	}
	r := okResult(elle.Encode(out))
	r.extra = revExtra(resp.Header.Revision)
	return r
}

func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// finish reads every key once more, after the heal, so that the last appends are seen
// and placed in each key's order.
func (w *appendWorkload) finish(ctx context.Context, e *env) error {
	var all []elle.Mop
	for i := range w.keys {
		all = append(all, elle.Mop{Key: w.key(i)})
	}
	return finalOps(ctx, e, func(ctx context.Context, c *client) bool {
		r := c.do(ctx, elle.F, "", elle.Encode(all), func(ctx context.Context) result { return runAppendTxn(ctx, c.cli, all) })
		return r.typ == history.OK
	})
}

func (w *appendWorkload) check(events []history.Event, _ checker.Options) (verdictReport, error) {
	res, err := elle.Check(events)
	if err != nil {
		return verdictReport{}, err
	}
	rep := verdictReport{valid: Valid, details: map[string]any{
		"txns": res.Txns, "keys": res.Keys, "serializable": res.Serializable,
		"strict_serializable": res.StrictSerializable, "anomaly_kinds": res.Kinds(),
	}}
	if res.StrictSerializable {
		rep.summary = fmt.Sprintf("strict serializable: %d transactions on %d keys, no anomaly", res.Txns, res.Keys)
		return rep, nil
	}
	rep.valid = Invalid
	rep.details["anomalies"] = res.Report(50)
	first := res.Anomalies[0].String()
	if len(first) > 400 {
		first = first[:400] + "... (summary.json has the anomalies)"
	}
	rep.summary = fmt.Sprintf("not strict serializable: %s (%d transactions); first: %s",
		strings.Join(res.Kinds(), ", "), res.Txns, first)
	return rep, nil
}
