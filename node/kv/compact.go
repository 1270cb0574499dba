package kv

// compact discards the history before rev, as etcd's Compact: reads and watches at a
// revision below rev fail with ErrCompacted afterwards; rev itself stays readable.
func (s *Store) compact(rev int64) error {
	switch {
	case rev <= s.compactRev:
		return ErrCompacted
	case rev > s.rev:
		return ErrFutureRev
	}
	s.compactRev = rev
	s.index.all(func(h *keyHistory) { h.compact(rev) })
	s.index.retain(func(h *keyHistory) bool { return len(h.revs) > 0 })
	s.log.trim(rev)
	return nil
}
