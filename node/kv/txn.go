package kv

import (
	"bytes"
	"cmp"
)

// A txn runs in three passes, as in etcd: (1) every compare on the branch taken, nested txns
// included, is evaluated against the state before the txn, giving a path of booleans in
// depth-first order; (2) the operations on that path are checked against that same state
// (lease exists, ignore_* key exists, range revision in bounds), so that (3) executing them
// cannot fail half way. Reads and prev_kv inside the txn see its earlier writes; compares
// never do.

// txnPath evaluates the compares of r and of the nested txns on the branch taken.
func (s *Store) txnPath(r *TxnRequest) []bool {
	ok := s.compares(r.Compare)
	path := []bool{ok}
	for _, op := range branch(r, ok) {
		if op.Txn != nil {
			path = append(path, s.txnPath(op.Txn)...)
		}
	}
	return path
}

func branch(r *TxnRequest, ok bool) []RequestOp {
	if ok {
		return r.Success
	}
	return r.Failure
}

func (s *Store) compares(cs []Compare) bool {
	for i := range cs {
		if !s.compare(&cs[i]) {
			return false
		}
	}
	return true
}

// compare holds when every key of the range satisfies it. On an empty range a value compare
// fails (there is no value to compare) and the others compare the zero KeyValue, so that
// "create_revision = 0" tests absence.
func (s *Store) compare(c *Compare) bool {
	kvs, _ := s.collect(mkSpan(c.Key, c.RangeEnd), s.compareRev(), 0, false)
	if len(kvs) == 0 {
		return c.Target != TargetValue && compareKV(c, &KeyValue{})
	}
	for i := range kvs {
		if !compareKV(c, &kvs[i]) {
			return false
		}
	}
	return true
}

// compareRev is the revision compares read: the current one, or, with kv.txn-stale-compare
// on, the one before it.
func (s *Store) compareRev() int64 {
	if s.cfg.Bugs.On(BugStaleCompare) && s.rev > 1 && s.rev-1 >= s.compactRev {
		return s.rev - 1
	}
	return s.rev
}

func compareKV(c *Compare, kv *KeyValue) bool {
	var r int
	switch c.Target {
	case TargetValue:
		r = bytes.Compare(kv.Value, c.Value)
	case TargetCreate:
		r = cmp.Compare(kv.CreateRevision, c.CreateRevision)
	case TargetMod:
		r = cmp.Compare(kv.ModRevision, c.ModRevision)
	case TargetVersion:
		r = cmp.Compare(kv.Version, c.Version)
	case TargetLease:
		r = cmp.Compare(kv.Lease, c.Lease)
	}
	switch c.Result {
	case CompareEqual:
		return r == 0
	case CompareNotEqual:
		return r != 0
	case CompareGreater:
		return r > 0
	case CompareLess:
		return r < 0
	}
	return true
}

// checkTxnPath checks the operations on path against the state before the txn. It
// returns the path left after r's part.
func (s *Store) checkTxnPath(r *TxnRequest, path []bool) ([]bool, error) {
	ops := branch(r, path[0])
	path = path[1:]
	for _, op := range ops {
		var err error
		switch {
		case op.Txn != nil:
			path, err = s.checkTxnPath(op.Txn, path)
		case op.Put != nil:
			err = s.checkPutState(op.Put, s.rev)
		case op.Range != nil:
			_, err = s.checkRev(op.Range.Revision, s.rev)
		}
		if err != nil {
			return nil, err
		}
	}
	return path, nil
}

// checkPutState checks what a put needs from the state at rev: its lease, and the key
// itself when it keeps the key's value or lease.
func (s *Store) checkPutState(p *PutRequest, rev int64) error {
	if p.IgnoreValue || p.IgnoreLease {
		if h := s.index.get(p.Key); h == nil || h.at(rev) == nil {
			return ErrKeyNotFound
		}
	}
	if p.Lease != 0 && s.leases[p.Lease] == nil {
		return ErrLeaseNotFound
	}
	return nil
}

// execTxn runs the branch of r chosen by path. Checks passed, so no operation fails; the
// path left after r's part is returned. Only the outer txn's header gets a revision (as
// in etcd, nested txn headers stay zero).
func (s *Store) execTxn(w *writeTxn, r *TxnRequest, path []bool) (*TxnResponse, []bool) {
	ok := path[0]
	path = path[1:]
	ops := branch(r, ok)
	resp := &TxnResponse{Succeeded: ok}
	if len(ops) > 0 {
		resp.Responses = make([]ResponseOp, len(ops))
	}
	for i, op := range ops {
		out := &resp.Responses[i]
		switch {
		case op.Range != nil:
			rr, err := s.rangeReq(op.Range, w.curRev())
			mustNot(err, "txn range failed after its check")
			out.Range = rr
		case op.Put != nil:
			s.maybeSplit(w)
			out.Put = s.execPut(w, op.Put)
		case op.DeleteRange != nil:
			s.maybeSplit(w)
			out.DeleteRange = s.execDelete(w, op.DeleteRange)
		case op.Txn != nil:
			out.Txn, path = s.execTxn(w, op.Txn, path)
		}
	}
	return resp, path
}

// maybeSplit gives the next write of a txn its own revision when kv.txn-nonatomic is on.
func (s *Store) maybeSplit(w *writeTxn) {
	if len(w.changes) > 0 && s.cfg.Bugs.On(BugTxnNonAtomic) {
		w.splitRevision()
	}
}

// execPut writes a checked put.
func (s *Store) execPut(w *writeTxn, p *PutRequest) *PutResponse {
	prev := w.get(p.Key)
	if (p.IgnoreValue || p.IgnoreLease) && prev == nil {
		panic("kv: ignore_value/ignore_lease put of a missing key after its check")
	}
	val, lease := p.Value, p.Lease
	if p.IgnoreValue {
		val = prev.kv.Value
	}
	if p.IgnoreLease {
		lease = prev.kv.Lease
	}
	resp := &PutResponse{}
	if p.PrevKV && prev != nil {
		kv := prev.kv
		resp.PrevKV = &kv
	}
	w.put(p.Key, val, lease)
	resp.Header.Revision = w.curRev()
	return resp
}

// execDelete deletes a range.
func (s *Store) execDelete(w *writeTxn, d *DeleteRangeRequest) *DeleteRangeResponse {
	sp := mkSpan(d.Key, d.RangeEnd)
	resp := &DeleteRangeResponse{}
	if d.PrevKV {
		resp.PrevKVs, _ = s.collect(sp, w.curRev(), 0, false)
	}
	resp.Deleted = w.deleteRange(sp)
	resp.Header.Revision = w.curRev()
	return resp
}

// ReadTxn runs a txn without writes outside raft (etcd serves read-only txns like ranges).
// A txn with a put or delete anywhere must be applied as a Command instead.
func (s *Store) ReadTxn(r TxnRequest) (*TxnResponse, error) {
	if !readOnly(&r) {
		return nil, ErrTxnNotReadOnly
	}
	if err := checkTxnRequest(&r, s.cfg.MaxTxnOps); err != nil {
		return nil, err
	}
	resp, err := s.txn(s.newWrite(), &r)
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// txn checks and runs r in w; the caller commits.
func (s *Store) txn(w *writeTxn, r *TxnRequest) (*TxnResponse, error) {
	path := s.txnPath(r)
	if _, err := s.checkTxnPath(r, path); err != nil {
		return nil, err
	}
	resp, _ := s.execTxn(w, r, path)
	resp.Header.Revision = w.curRev()
	return resp, nil
}

// readOnly reports whether no branch of r, nested ones included, writes.
func readOnly(r *TxnRequest) bool {
	for _, ops := range [][]RequestOp{r.Success, r.Failure} {
		for _, op := range ops {
			if op.Put != nil || op.DeleteRange != nil || op.Txn != nil && !readOnly(op.Txn) {
				return false
			}
		}
	}
	return true
}

func mustNot(err error, what string) {
	if err != nil {
		panic("kv: " + what + ": " + err.Error())
	}
}
