package kv

// revLog is the store's history in revision order: batches[i] holds the entries written at
// revision first+i, in sub-revision order. Every revision above 1 wrote something (a
// revision is only consumed by a change), so the log has no holes. It starts at the last
// compaction revision: that is as far back as a watcher may start.
type revLog struct {
	first   int64
	batches [][]*entry
}

func newRevLog() revLog { return revLog{first: 2} }

// at returns the entries of rev, or nil if rev is outside the log.
func (l *revLog) at(rev int64) []*entry {
	i := rev - l.first
	if i < 0 || i >= int64(len(l.batches)) {
		return nil
	}
	return l.batches[i]
}

// append adds the entries of the next revision.
func (l *revLog) append(rev int64, es []*entry) {
	if want := l.first + int64(len(l.batches)); rev != want {
		panic("kv: revision log append out of order")
	}
	l.batches = append(l.batches, es)
}

// trim drops the revisions below rev.
func (l *revLog) trim(rev int64) {
	n := rev - l.first
	if n <= 0 {
		return
	}
	n = min(n, int64(len(l.batches)))
	clear(l.batches[:n])
	l.batches = append(l.batches[:0:0], l.batches[n:]...)
	l.first += n
}
