package jepsen

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/orrery/orrery/checker"
	"github.com/orrery/orrery/checker/history"
)

const setPrefix = "set/"

// setWorkload adds unique elements, each as its own key under setPrefix, and reads the
// whole set once at the end (CheckSet).
type setWorkload struct {
	n atomic.Int64
}

func (w *setWorkload) open(context.Context, *env) error { return nil }
func (w *setWorkload) closeClient(*client)              {}

func (w *setWorkload) op(ctx context.Context, c *client) {
	elem := strconv.FormatInt(w.n.Add(1), 10)
	c.do(ctx, "add", "", history.Str(elem), func(ctx context.Context) result {
		resp, err := c.cli.Put(ctx, setPrefix+elem, elem)
		if err != nil {
			return failed(err, false, history.Str(elem))
		}
		r := okResult(history.Str(elem))
		r.extra = revExtra(resp.Header.Revision)
		return r
	})
}

func (w *setWorkload) finish(ctx context.Context, e *env) error {
	return finalOps(ctx, e, func(ctx context.Context, c *client) bool {
		r := c.do(ctx, "read", "", history.Null(), func(ctx context.Context) result {
			resp, err := c.cli.Get(ctx, setPrefix, clientv3.WithPrefix())
			if err != nil {
				return failed(err, true, history.Null())
			}
			elems := make([]history.Value, 0, len(resp.Kvs))
			for _, kv := range resp.Kvs {
				elems = append(elems, history.Str(strings.TrimPrefix(string(kv.Key), setPrefix)))
			}
			return okResult(history.List(elems...))
		})
		return r.typ == history.OK
	})
}

func (w *setWorkload) check(events []history.Event, _ checker.Options) (verdictReport, error) {
	res, err := CheckSet(events)
	if err != nil {
		return verdictReport{}, err
	}
	rep := verdictReport{valid: res.Valid, details: map[string]any{
		"attempted": res.Attempted, "acknowledged": res.Acknowledged, "read": res.Read,
		"lost_count": len(res.Lost), "unexpected_count": len(res.Unexpected), "recovered_count": res.Recovered,
		"lost": res.Lost, "unexpected": res.Unexpected,
	}}
	switch res.Valid {
	case Valid:
		rep.summary = fmt.Sprintf("set intact: %d acknowledged adds all read back (%d of %d indefinite adds took effect)",
			res.Acknowledged, res.Recovered, res.Indefinite)
	case Invalid:
		rep.summary = fmt.Sprintf("set broken: %d lost, %d unexpected elements", len(res.Lost), len(res.Unexpected))
	default:
		rep.summary = "unknown: " + res.Reason
	}
	return rep, nil
}

// SetResult is CheckSet's verdict on a set history.
type SetResult struct {
	Valid        Validity
	Reason       string   // why Valid is not Valid
	Attempted    int      // adds invoked
	Acknowledged int      // adds completed ok
	Indefinite   int      // adds completed info (or never completed)
	Recovered    int      // indefinite adds found in the final read
	Read         int      // elements in the final read
	Lost         []string // acknowledged adds missing from the final read
	Unexpected   []string // elements read that no add attempted
}

// CheckSet judges a set history: "add" operations (value: the element) and a final
// "read" (value: the list of elements present). The last ok read is the final one; it
// must hold every acknowledged add (else they are lost) and nothing never attempted
// (unexpected). Indefinite adds may or may not be present. Without an ok read the verdict
// is unknown.
func CheckSet(events []history.Event) (SetResult, error) {
	ops, err := history.Pair(events)
	if err != nil {
		return SetResult{}, err
	}
	var res SetResult
	attempted, acked := map[string]bool{}, map[string]bool{}
	indefinite := map[string]bool{}
	var final []history.Value
	haveRead := false
	for _, op := range ops {
		switch op.F {
		case "add":
			e, ok := op.Input.Str()
			if !ok {
				return res, fmt.Errorf("jepsen: set add by process %d carries %s, want a string", op.Process, op.Input)
			}
			attempted[e] = true
			switch op.Outcome {
			case history.OK:
				acked[e] = true
			case history.Info:
				indefinite[e] = true
			}
		case "read":
			if op.Outcome != history.OK {
				continue
			}
			l, ok := op.Output.List()
			if !ok {
				return res, fmt.Errorf("jepsen: set read by process %d returned %s, want a list", op.Process, op.Output)
			}
			final, haveRead = l, true
		default:
			return res, fmt.Errorf("jepsen: %q in a set history (want add or read)", op.F)
		}
	}
	res.Attempted, res.Acknowledged, res.Indefinite = len(attempted), len(acked), len(indefinite)
	if !haveRead {
		res.Valid, res.Reason = Unknown, "no final read succeeded"
		return res, nil
	}
	read := map[string]bool{}
	for _, v := range final {
		e, _ := v.Str()
		read[e] = true
		switch {
		case !attempted[e]:
			res.Unexpected = append(res.Unexpected, e)
		case indefinite[e]:
			res.Recovered++
		}
	}
	res.Read = len(read)
	for e := range acked {
		if !read[e] {
			res.Lost = append(res.Lost, e)
		}
	}
	sortElems(res.Lost)
	sortElems(res.Unexpected)
	res.Valid = Valid
	if len(res.Lost) > 0 || len(res.Unexpected) > 0 {
		res.Valid = Invalid
	}
	return res, nil
}

// sortElems orders elements numerically when they are numbers, then as text.
func sortElems(s []string) {
	slices.SortFunc(s, func(a, b string) int {
		x, errA := strconv.ParseInt(a, 10, 64)
		y, errB := strconv.ParseInt(b, 10, 64)
		if errA == nil && errB == nil {
			return cmp.Compare(x, y)
		}
		return strings.Compare(a, b)
	})
}
