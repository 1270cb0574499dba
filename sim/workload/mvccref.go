package workload

import (
	"bytes"
	"cmp"
	"maps"
	"slices"

	"github.com/orrery/orrery/node/kv"
)

// The mvcc workload's reference: etcd's semantics for every request the workload sends,
// written from etcd's documentation and behaviour rather than from node/kv, so that a
// mistake in the store is not also the reference's. It evaluates one request against a
// state (the keys present at one revision, as a client's watch replay has it) and returns
// the response etcd would give and the events it would commit. What the reference cannot
// know (the compacted revision, whether a lease expired yet) it leaves to the caller:
// compaction outcomes are accepted either way and checked across clients, and lease
// existence comes from an oracle the caller enumerates.

// refStore is the state one request runs against.
type refStore struct {
	rev    int64                              // the revision of the state the request starts from
	pre    map[string]kv.KeyValue             // that state: compares and a txn's checks read it
	cur    map[string]kv.KeyValue             // what the request's own reads see (its writes included)
	past   func(int64) map[string]kv.KeyValue // the state at an earlier revision
	alive  func(kv.LeaseID) bool              // whether a lease exists
	ttl    func(kv.LeaseID) int64             // the TTL a lease was granted
	hash   func(rev, compacted int64) uint32  // etcd's HashKV of the history up to rev
	minTTL int64
	// compacted is the compaction revision a HashKV answer named (-1: none).
	compacted int64
	wrote     bool
	events    []kv.Event
}

func newRefStore(rev int64, state map[string]kv.KeyValue, past func(int64) map[string]kv.KeyValue,
	alive func(kv.LeaseID) bool, ttl func(kv.LeaseID) int64, minTTL int64) *refStore {
	return &refStore{rev: rev, pre: state, cur: maps.Clone(state), past: past, alive: alive, ttl: ttl, minTTL: minTTL}
}

// curRev is the revision the request's reads report: one past the start once it wrote.
func (s *refStore) curRev() int64 {
	if s.wrote {
		return s.rev + 1
	}
	return s.rev
}

// inSpan is etcd's key range rule: an empty end is the key alone, "\x00" every key from
// key on, anything else the half-open interval.
func inSpan(k, key, end []byte) bool {
	switch {
	case len(end) == 0:
		return bytes.Equal(k, key)
	case len(end) == 1 && end[0] == 0:
		return bytes.Compare(k, key) >= 0
	}
	return bytes.Compare(k, key) >= 0 && bytes.Compare(k, end) < 0
}

// spanKVs returns the keys of state in [key, end), in key order.
func spanKVs(state map[string]kv.KeyValue, key, end []byte) []kv.KeyValue {
	var out []kv.KeyValue
	for _, k := range slices.Sorted(maps.Keys(state)) {
		if inSpan([]byte(k), key, end) {
			out = append(out, state[k])
		}
	}
	return out
}

// command evaluates a replicated command.
func (s *refStore) command(c *kv.Command) (kv.Response, error) {
	var out kv.Response
	var err error
	switch {
	case c.Put != nil:
		if err = s.checkPut(c.Put); err == nil {
			out.Put = s.put(c.Put)
		}
	case c.DeleteRange != nil:
		out.DeleteRange = s.deleteRange(c.DeleteRange)
	case c.Txn != nil:
		out.Txn, err = s.txn(c.Txn)
	case c.LeaseRevoke != nil:
		if !s.alive(c.LeaseRevoke.ID) {
			return out, kv.ErrLeaseNotFound
		}
		for _, e := range spanKVs(s.cur, []byte{0}, []byte{0}) {
			if e.Lease == c.LeaseRevoke.ID {
				s.remove(e.Key)
			}
		}
		out.LeaseRevoke = &kv.LeaseRevokeResponse{Header: kv.ResponseHeader{Revision: s.curRev()}}
	case c.LeaseGrant != nil:
		g := c.LeaseGrant
		switch {
		case g.TTL > kv.MaxLeaseTTL:
			return out, kv.ErrLeaseTTLTooLarge
		case g.ID != 0 && s.alive(g.ID):
			return out, kv.ErrLeaseExist
		}
		out.LeaseGrant = &kv.LeaseGrantResponse{Header: kv.ResponseHeader{Revision: s.rev}, ID: g.ID, TTL: max(g.TTL, s.minTTL)}
	case c.Compaction != nil:
		if c.Compaction.Revision > s.rev {
			return out, kv.ErrFutureRev
		}
		out.Compaction = &kv.CompactionResponse{Header: kv.ResponseHeader{Revision: s.rev}}
	}
	if err != nil {
		s.cur, s.wrote, s.events = maps.Clone(s.pre), false, nil
	}
	return out, err
}

// query evaluates a request served outside raft.
func (s *refStore) query(q *kv.Query) kv.Answer {
	hdr := kv.ResponseHeader{Revision: s.rev}
	switch {
	case q.Range != nil:
		r, err := s.rangeReq(q.Range, s.rev)
		return kv.Answer{Range: r, Err: err}
	case q.Txn != nil:
		t, err := s.txn(q.Txn)
		return kv.Answer{Txn: t, Err: err}
	case q.KeepAlive != 0:
		if !s.alive(q.KeepAlive) {
			return kv.Answer{Err: kv.ErrLeaseNotFound}
		}
		return kv.Answer{KeepAlive: &kv.LeaseKeepAliveResponse{Header: hdr, ID: q.KeepAlive, TTL: s.ttl(q.KeepAlive)}}
	case q.HashKV != nil:
		// The compaction revision is the store's to know; the caller fills in the one
		// the response names, and the hash must follow from it.
		rev := q.HashKV.Revision
		switch {
		case rev > s.rev:
			return kv.Answer{Err: kv.ErrFutureRev}
		case rev == 0:
			rev = s.rev
		}
		return kv.Answer{HashKV: &kv.HashKVResponse{Header: hdr, Hash: s.hash(rev, s.compacted), CompactRevision: s.compacted}}
	case q.TimeToLive != nil:
		id := q.TimeToLive.ID
		t := &kv.LeaseTimeToLiveResponse{Header: hdr, ID: id, TTL: -1}
		if s.alive(id) {
			t.TTL, t.GrantedTTL = s.ttl(id), s.ttl(id)
			if q.TimeToLive.Keys {
				for _, e := range spanKVs(s.cur, []byte{0}, []byte{0}) {
					if e.Lease == id {
						t.Keys = append(t.Keys, e.Key)
					}
				}
			}
		}
		return kv.Answer{TimeToLive: t}
	}
	return kv.Answer{Err: kv.ErrMalformed}
}

// rangeReq reads a range as etcd does; cur is the revision the reader is at.
func (s *refStore) rangeReq(r *kv.RangeRequest, cur int64) (*kv.RangeResponse, error) {
	state := s.cur
	switch {
	case r.Revision > cur:
		return nil, kv.ErrFutureRev
	case r.Revision > 0 && r.Revision != cur:
		state = s.past(r.Revision)
	}
	all := spanKVs(state, r.Key, r.RangeEnd)
	resp := &kv.RangeResponse{Header: kv.ResponseHeader{Revision: cur}, Count: int64(len(all))}
	if r.CountOnly {
		return resp, nil
	}
	filtered := r.MinModRevision != 0 || r.MaxModRevision != 0 || r.MinCreateRevision != 0 || r.MaxCreateRevision != 0
	kvs := all
	// etcd reads only limit+1 keys (in key order) unless it must sort or filter; a
	// request that names a sort target but no order is sorted after that cut.
	if r.Limit > 0 && r.SortOrder == kv.SortNone && !filtered && int64(len(kvs)) > r.Limit+1 {
		kvs = kvs[:r.Limit+1]
	}
	var keep []kv.KeyValue
	for _, e := range kvs {
		if r.MinModRevision != 0 && e.ModRevision < r.MinModRevision || r.MaxModRevision != 0 && e.ModRevision > r.MaxModRevision ||
			r.MinCreateRevision != 0 && e.CreateRevision < r.MinCreateRevision || r.MaxCreateRevision != 0 && e.CreateRevision > r.MaxCreateRevision {
			continue
		}
		keep = append(keep, e)
	}
	descend := r.SortOrder == kv.SortDescend
	if r.SortOrder != kv.SortNone || r.SortTarget != kv.SortByKey {
		slices.SortStableFunc(keep, func(a, b kv.KeyValue) int {
			if descend {
				a, b = b, a
			}
			return sortKey(r.SortTarget, a, b)
		})
	}
	if r.Limit > 0 && int64(len(keep)) > r.Limit {
		keep, resp.More = keep[:r.Limit], true
	}
	for _, e := range keep {
		if r.KeysOnly {
			e.Value = nil
		}
		resp.KVs = append(resp.KVs, e)
	}
	return resp, nil
}

func sortKey(t kv.SortTarget, a, b kv.KeyValue) int {
	switch t {
	case kv.SortByVersion:
		return cmp.Compare(a.Version, b.Version)
	case kv.SortByCreate:
		return cmp.Compare(a.CreateRevision, b.CreateRevision)
	case kv.SortByMod:
		return cmp.Compare(a.ModRevision, b.ModRevision)
	case kv.SortByValue:
		return bytes.Compare(a.Value, b.Value)
	}
	return bytes.Compare(a.Key, b.Key)
}

// checkPut is what a put needs before it runs: the key, when it keeps the key's value or
// lease, and its lease.
func (s *refStore) checkPut(p *kv.PutRequest) error {
	if _, ok := s.pre[string(p.Key)]; !ok && (p.IgnoreValue || p.IgnoreLease) {
		return kv.ErrKeyNotFound
	}
	if p.Lease != 0 && !s.alive(p.Lease) {
		return kv.ErrLeaseNotFound
	}
	return nil
}

func (s *refStore) put(p *kv.PutRequest) *kv.PutResponse {
	next := s.rev + 1
	prev, had := s.cur[string(p.Key)]
	e := kv.KeyValue{Key: p.Key, Value: p.Value, Lease: p.Lease, ModRevision: next, CreateRevision: next, Version: 1}
	if had {
		e.CreateRevision, e.Version = prev.CreateRevision, prev.Version+1
	}
	if p.IgnoreValue {
		e.Value = prev.Value
	}
	if p.IgnoreLease {
		e.Lease = prev.Lease
	}
	resp := &kv.PutResponse{}
	if p.PrevKV && had {
		resp.PrevKV = &prev
	}
	s.cur[string(p.Key)] = e
	s.wrote = true
	s.events = append(s.events, kv.Event{Type: kv.EventPut, KV: e})
	resp.Header.Revision = next
	return resp
}

func (s *refStore) deleteRange(d *kv.DeleteRangeRequest) *kv.DeleteRangeResponse {
	gone := spanKVs(s.cur, d.Key, d.RangeEnd)
	resp := &kv.DeleteRangeResponse{Deleted: int64(len(gone))}
	if d.PrevKV && len(gone) > 0 {
		resp.PrevKVs = gone
	}
	for _, e := range gone {
		s.remove(e.Key)
	}
	resp.Header.Revision = s.curRev()
	return resp
}

func (s *refStore) remove(key []byte) {
	delete(s.cur, string(key))
	s.wrote = true
	s.events = append(s.events, kv.Event{Type: kv.EventDelete, KV: kv.KeyValue{Key: key, ModRevision: s.rev + 1}})
}

// txn runs etcd's three passes: every compare on the branch taken (nested txns included)
// against the state before the txn, then every operation's preconditions against that
// state, then the operations, whose reads see the txn's earlier writes.
func (s *refStore) txn(t *kv.TxnRequest) (*kv.TxnResponse, error) {
	if conflicts(t.Success) || conflicts(t.Failure) {
		return nil, kv.ErrDuplicateKey
	}
	path := s.path(t)
	if _, err := s.checkPath(t, path); err != nil {
		return nil, err
	}
	resp, _ := s.exec(t, path)
	resp.Header.Revision = s.curRev()
	return resp, nil
}

// conflicts is etcd's rule that a branch writes each key once: no two puts of a key, no
// put inside the range of a delete. It looks at the branch's own operations: the workload
// gives nested txns keys of their own, so the rule's nested cases never arise.
func conflicts(ops []kv.RequestOp) bool {
	for i, a := range ops {
		for _, b := range ops[i+1:] {
			switch {
			case a.Put != nil && b.Put != nil && bytes.Equal(a.Put.Key, b.Put.Key),
				a.Put != nil && b.DeleteRange != nil && inSpan(a.Put.Key, b.DeleteRange.Key, b.DeleteRange.RangeEnd),
				b.Put != nil && a.DeleteRange != nil && inSpan(b.Put.Key, a.DeleteRange.Key, a.DeleteRange.RangeEnd):
				return true
			}
		}
	}
	return false
}

func (s *refStore) path(t *kv.TxnRequest) []bool {
	ok := true
	for i := range t.Compare {
		ok = ok && s.compare(&t.Compare[i])
	}
	out := []bool{ok}
	for _, op := range txnBranch(t, ok) {
		if op.Txn != nil {
			out = append(out, s.path(op.Txn)...)
		}
	}
	return out
}

func txnBranch(t *kv.TxnRequest, ok bool) []kv.RequestOp {
	if ok {
		return t.Success
	}
	return t.Failure
}

// compare holds when every key of its range satisfies it; over no key at all, a value
// compare fails and the others compare the fields of an absent key (all zero).
func (s *refStore) compare(c *kv.Compare) bool {
	kvs := spanKVs(s.pre, c.Key, c.RangeEnd)
	if len(kvs) == 0 {
		if c.Target == kv.TargetValue {
			return false
		}
		kvs = []kv.KeyValue{{}}
	}
	for _, e := range kvs {
		var r int
		switch c.Target {
		case kv.TargetVersion:
			r = cmp.Compare(e.Version, c.Version)
		case kv.TargetCreate:
			r = cmp.Compare(e.CreateRevision, c.CreateRevision)
		case kv.TargetMod:
			r = cmp.Compare(e.ModRevision, c.ModRevision)
		case kv.TargetValue:
			r = bytes.Compare(e.Value, c.Value)
		case kv.TargetLease:
			r = cmp.Compare(e.Lease, c.Lease)
		}
		holds := map[kv.CompareResult]bool{kv.CompareEqual: r == 0, kv.CompareNotEqual: r != 0, kv.CompareGreater: r > 0, kv.CompareLess: r < 0}
		if !holds[c.Result] {
			return false
		}
	}
	return true
}

func (s *refStore) checkPath(t *kv.TxnRequest, path []bool) ([]bool, error) {
	ops := txnBranch(t, path[0])
	path = path[1:]
	for _, op := range ops {
		var err error
		switch {
		case op.Txn != nil:
			path, err = s.checkPath(op.Txn, path)
		case op.Put != nil:
			err = s.checkPut(op.Put)
		case op.Range != nil && op.Range.Revision > s.rev:
			err = kv.ErrFutureRev
		}
		if err != nil {
			return nil, err
		}
	}
	return path, nil
}

// exec runs the branch path chose; a nested txn's response carries no header.
func (s *refStore) exec(t *kv.TxnRequest, path []bool) (*kv.TxnResponse, []bool) {
	resp := &kv.TxnResponse{Succeeded: path[0]}
	path = path[1:]
	for _, op := range txnBranch(t, resp.Succeeded) {
		var out kv.ResponseOp
		switch {
		case op.Range != nil:
			out.Range, _ = s.rangeReq(op.Range, s.curRev())
		case op.Put != nil:
			out.Put = s.put(op.Put)
		case op.DeleteRange != nil:
			out.DeleteRange = s.deleteRange(op.DeleteRange)
		case op.Txn != nil:
			out.Txn, path = s.exec(op.Txn, path)
		}
		resp.Responses = append(resp.Responses, out)
	}
	return resp, path
}
