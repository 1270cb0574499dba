package kv

import "fmt"

// Request validation, as etcd's gRPC layer does it before proposing (api/v3rpc/key.go).
// The store repeats it when applying so that a command is refused the same way on every
// replica whoever proposed it; the node may call Validate first to fail fast.

// Validate checks a command as etcd checks a request before proposing it, and that it
// carries exactly one operation (Apply panics on a command that does not).
func (c *Command) Validate(cfg Config) error {
	if c.opCount() != 1 {
		return fmt.Errorf("%w: a command carries %d operations, want 1", ErrMalformed, c.opCount())
	}
	cfg = cfg.withDefaults()
	switch {
	case c.Put != nil:
		return checkPut(c.Put)
	case c.DeleteRange != nil:
		return checkDelete(c.DeleteRange)
	case c.Txn != nil:
		return checkTxnRequest(c.Txn, cfg.MaxTxnOps)
	case c.LeaseGrant != nil:
		if c.LeaseGrant.TTL > MaxLeaseTTL {
			return ErrLeaseTTLTooLarge
		}
	}
	return nil
}

func (c *Command) opCount() int {
	n := 0
	for _, set := range []bool{c.Put != nil, c.DeleteRange != nil, c.Txn != nil, c.Compaction != nil,
		c.LeaseGrant != nil, c.LeaseRevoke != nil, c.LeaseExpire != nil} {
		if set {
			n++
		}
	}
	return n
}

func checkRange(r *RangeRequest) error {
	if len(r.Key) == 0 {
		return ErrEmptyKey
	}
	if r.SortOrder > SortDescend || r.SortTarget > SortByValue {
		return ErrInvalidSortOption
	}
	return nil
}

func checkPut(r *PutRequest) error {
	switch {
	case len(r.Key) == 0:
		return ErrEmptyKey
	case r.IgnoreValue && len(r.Value) != 0:
		return ErrValueProvided
	case r.IgnoreLease && r.Lease != 0:
		return ErrLeaseProvided
	}
	return nil
}

func checkDelete(r *DeleteRangeRequest) error {
	if len(r.Key) == 0 {
		return ErrEmptyKey
	}
	return nil
}

// checkTxnRequest checks a txn: its size, every compare's key, every operation, and that
// no key is written twice.
func checkTxnRequest(r *TxnRequest, maxOps int) error {
	if err := checkTxnOps(r, maxOps); err != nil {
		return err
	}
	if _, _, err := checkIntervals(r.Success); err != nil {
		return err
	}
	_, _, err := checkIntervals(r.Failure)
	return err
}

// checkTxnOps bounds the txn's size: no branch and no compare list may be longer than
// maxOps, and a nested txn gets what its parent left (etcd's checkTxnRequest).
func checkTxnOps(r *TxnRequest, maxOps int) error {
	n := max(len(r.Compare), len(r.Success), len(r.Failure))
	if n > maxOps {
		return ErrTooManyOps
	}
	for _, c := range r.Compare {
		if len(c.Key) == 0 {
			return ErrEmptyKey
		}
	}
	for _, ops := range [][]RequestOp{r.Success, r.Failure} {
		for i := range ops {
			if err := checkOp(&ops[i], maxOps-n); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkOp(op *RequestOp, maxOps int) error {
	switch {
	case op.Range != nil:
		return checkRange(op.Range)
	case op.Put != nil:
		return checkPut(op.Put)
	case op.DeleteRange != nil:
		return checkDelete(op.DeleteRange)
	case op.Txn != nil:
		return checkTxnOps(op.Txn, maxOps)
	}
	return nil
}

// checkIntervals finds a key written twice by one branch of a txn, nested txns included
// (etcd's checkIntervals): a put of a key another put or a delete of the same branch also
// writes. The success and failure branches of a nested txn exclude each other, so the same
// key may be put in both. It returns the keys put and the spans deleted at this level and
// below. Unlike etcd, which compares the raw range end, a delete "to the end" ("\x00")
// overlaps every key after its start: etcd would accept such a txn and then fail while
// applying a put with ignore_value behind the delete.
func checkIntervals(ops []RequestOp) (map[string]bool, []span, error) {
	var dels []span
	for _, op := range ops {
		if d := op.DeleteRange; d != nil {
			dels = append(dels, mkSpan(d.Key, d.RangeEnd))
		}
	}
	puts := map[string]bool{}
	for _, op := range ops {
		if op.Txn == nil {
			continue
		}
		putsThen, delsThen, err := checkIntervals(op.Txn.Success)
		if err != nil {
			return nil, nil, err
		}
		putsElse, delsElse, err := checkIntervals(op.Txn.Failure)
		if err != nil {
			return nil, nil, err
		}
		//det:unordered the outcome (error or the union of the sets) is the same in any order
		for k := range putsThen {
			if puts[k] || deletes(dels, k) {
				return nil, nil, ErrDuplicateKey
			}
			puts[k] = true
		}
		//det:unordered the outcome (error or the union of the sets) is the same in any order
		for k := range putsElse {
			if puts[k] && !putsThen[k] || deletes(dels, k) {
				return nil, nil, ErrDuplicateKey
			}
			puts[k] = true
		}
		dels = append(dels, delsThen...)
		dels = append(dels, delsElse...)
	}
	for _, op := range ops {
		if op.Put == nil {
			continue
		}
		k := string(op.Put.Key)
		if puts[k] || deletes(dels, k) {
			return nil, nil, ErrDuplicateKey
		}
		puts[k] = true
	}
	return puts, dels, nil
}

func deletes(dels []span, key string) bool {
	for _, d := range dels {
		if d.contains([]byte(key)) {
			return true
		}
	}
	return false
}
