package kv

import (
	"bytes"
	"cmp"
	"slices"
)

// Range reads keys outside raft (a serializable read, or a linearizable one after the node
// confirmed its read index).
func (s *Store) Range(req RangeRequest) (*RangeResponse, error) {
	if err := checkRange(&req); err != nil {
		return nil, err
	}
	return s.rangeReq(&req, s.rev)
}

// collect returns the KeyValues in sp at rev, in key order: at most limit of them (0: no
// limit), and the number of keys there are.
func (s *Store) collect(sp span, rev int64, limit int64, countOnly bool) ([]KeyValue, int64) {
	var kvs []KeyValue
	var total int64
	s.index.ascend(sp, func(h *keyHistory) bool {
		e := h.at(rev)
		if e == nil || !sp.contains(h.key) {
			return true
		}
		total++
		if !countOnly && (limit <= 0 || int64(len(kvs)) < limit) {
			kvs = append(kvs, e.kv)
		}
		return true
	})
	return kvs, total
}

// rangeReq serves a range as etcd's applier does, with cur the revision the reader sees
// (above the store's revision inside a txn that already wrote).
func (s *Store) rangeReq(r *RangeRequest, cur int64) (*RangeResponse, error) {
	rev, err := s.checkRev(r.Revision, cur)
	if err != nil {
		return nil, err
	}
	// Filters and sorting need every key; otherwise fetch one extra to learn "more". As in
	// etcd, the test looks at the requested order only: a non-key target without an order
	// is sorted ascending below, but only over the first Limit+1 keys (etcdctl get
	// --sort-by=MODIFY --limit=N shows this).
	limit := r.Limit
	if r.SortOrder != SortNone || r.MinModRevision != 0 || r.MaxModRevision != 0 ||
		r.MinCreateRevision != 0 || r.MaxCreateRevision != 0 {
		limit = 0
	}
	if limit > 0 {
		limit++
	}
	kvs, total := s.collect(mkSpan(r.Key, r.RangeEnd), rev, limit, r.CountOnly)
	kvs = filterKVs(r, kvs)
	sortKVs(r, kvs)
	resp := &RangeResponse{Header: ResponseHeader{Revision: cur}, Count: total}
	if r.Limit > 0 && int64(len(kvs)) > r.Limit {
		kvs = kvs[:r.Limit]
		resp.More = true
	}
	if r.KeysOnly {
		for i := range kvs {
			kvs[i].Value = nil
		}
	}
	if len(kvs) > 0 { // empty lists are nil, so that equal responses compare (and encode) equal
		resp.KVs = kvs
	}
	return resp, nil
}

// filterKVs applies the min/max mod and create revision filters. Like etcd, it leaves Count
// alone: Count is the size of the range, not of the answer.
func filterKVs(r *RangeRequest, kvs []KeyValue) []KeyValue {
	return slices.DeleteFunc(kvs, func(kv KeyValue) bool {
		return r.MaxModRevision != 0 && kv.ModRevision > r.MaxModRevision ||
			r.MinModRevision != 0 && kv.ModRevision < r.MinModRevision ||
			r.MaxCreateRevision != 0 && kv.CreateRevision > r.MaxCreateRevision ||
			r.MinCreateRevision != 0 && kv.CreateRevision < r.MinCreateRevision
	})
}

// sortKVs sorts as etcd does: a non-key target without an order sorts ascending; key order
// ascending is what the index already gives. The sort is stable, so ties stay in key order
// (etcd's unstable sort leaves their order unspecified).
func sortKVs(r *RangeRequest, kvs []KeyValue) {
	order := r.SortOrder
	switch {
	case r.SortTarget != SortByKey && order == SortNone:
		order = SortAscend
	case r.SortTarget == SortByKey && order == SortAscend:
		order = SortNone
	}
	if order == SortNone {
		return
	}
	by := sortFunc(r.SortTarget)
	if order == SortDescend {
		slices.SortStableFunc(kvs, func(a, b KeyValue) int { return by(b, a) })
		return
	}
	slices.SortStableFunc(kvs, by)
}

func sortFunc(t SortTarget) func(a, b KeyValue) int {
	switch t {
	case SortByVersion:
		return func(a, b KeyValue) int { return cmp.Compare(a.Version, b.Version) }
	case SortByCreate:
		return func(a, b KeyValue) int { return cmp.Compare(a.CreateRevision, b.CreateRevision) }
	case SortByMod:
		return func(a, b KeyValue) int { return cmp.Compare(a.ModRevision, b.ModRevision) }
	case SortByValue:
		return func(a, b KeyValue) int { return bytes.Compare(a.Value, b.Value) }
	default:
		return func(a, b KeyValue) int { return bytes.Compare(a.Key, b.Key) }
	}
}
