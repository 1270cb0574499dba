package kv

// Deduplication of retried writes.
//
// A client numbers its requests 1, 2, 3... (Seq) and has at most one in flight: it sends
// Seq+1 only after it got an answer for Seq or gave up on it. So the store only needs the
// latest (Seq, response) per client: a command with that Seq is a retry and gets the
// recorded response; a command with a lower Seq is a retry the client no longer waits for
// (it moved on), and executing it now would reorder the client's writes, so it is refused
// with ErrStaleRequest. The table is replicated state: every replica records the same
// entries, and it travels in snapshots.

type dedupEntry struct {
	seq      uint64
	resp     Response
	err      error
	revision int64
}

// deduplicate answers a command already applied, or refuses a stale one.
func (s *Store) deduplicate(cmd *Command) (Result, bool) {
	if cmd.ClientID == 0 {
		return Result{}, false
	}
	d := s.dedup[cmd.ClientID]
	switch {
	case d == nil || cmd.Seq > d.seq:
		return Result{}, false
	case cmd.Seq == d.seq:
		return Result{Response: d.resp, Err: d.err, Revision: d.revision, Duplicate: true}, true
	default:
		return Result{Err: ErrStaleRequest, Revision: s.rev}, true
	}
}

// record remembers the client's latest response.
func (s *Store) record(cmd *Command, res *Result) {
	if cmd.ClientID == 0 {
		return
	}
	s.dedup[cmd.ClientID] = &dedupEntry{seq: cmd.Seq, resp: res.Response, err: res.Err, revision: res.Revision}
}
