package raft

import (
	"errors"
	"fmt"
)

// raftLog is the log as raft sees it: the durable part in storage, then the unstable part.
type raftLog struct {
	storage  Storage
	unstable unstable
	// committed is the highest index known to be committed.
	committed uint64
	// applying is the highest index handed to the application (in a Ready); applied the
	// highest the application has reported applied (by Advance). applied <= applying <= committed.
	applying uint64
	applied  uint64
}

func newLog(s Storage) *raftLog {
	first := must(s.FirstIndex())
	last := must(s.LastIndex())
	return &raftLog{
		storage:   s,
		unstable:  unstable{offset: last + 1},
		committed: first - 1,
		applying:  first - 1,
		applied:   first - 1,
	}
}

// must panics on an unexpected storage error: raft cannot continue without its log.
func must(v uint64, err error) uint64 {
	if err != nil {
		panic(fmt.Sprintf("raft: storage failed: %v", err))
	}
	return v
}

func (l *raftLog) firstIndex() uint64 {
	if i, ok := l.unstable.firstIndex(); ok {
		return i
	}
	return must(l.storage.FirstIndex())
}

func (l *raftLog) lastIndex() uint64 {
	if i, ok := l.unstable.lastIndex(); ok {
		return i
	}
	return must(l.storage.LastIndex())
}

func (l *raftLog) lastTerm() uint64 {
	t, err := l.term(l.lastIndex())
	if err != nil {
		panic(fmt.Sprintf("raft: term of last index: %v", err))
	}
	return t
}

// term returns the term of entry i; ErrCompacted or ErrUnavailable when it is not known.
func (l *raftLog) term(i uint64) (uint64, error) {
	if t, ok := l.unstable.term(i); ok {
		return t, nil
	}
	if i+1 < l.firstIndex() {
		return 0, ErrCompacted
	}
	if i > l.lastIndex() {
		return 0, ErrUnavailable
	}
	t, err := l.storage.Term(i)
	if err != nil && !errors.Is(err, ErrCompacted) && !errors.Is(err, ErrUnavailable) {
		panic(fmt.Sprintf("raft: storage term %d: %v", i, err))
	}
	return t, err
}

func (l *raftLog) termOrZero(i uint64) uint64 {
	t, err := l.term(i)
	if err != nil {
		return 0
	}
	return t
}

func (l *raftLog) matchTerm(i, t uint64) bool {
	gt, err := l.term(i)
	return err == nil && gt == t
}

// persistedLast is the highest index whose entry is durable in storage and still part of
// this log (0 while an incoming snapshot is not yet durable).
func (l *raftLog) persistedLast() uint64 {
	if l.unstable.snapshot != nil {
		return 0
	}
	return min(must(l.storage.LastIndex()), l.unstable.offset-1)
}

// isUpToDate reports whether a log ending at (lasti, term) is at least as up to date as ours.
func (l *raftLog) isUpToDate(lasti, term uint64) bool {
	lt := l.lastTerm()
	return term > lt || (term == lt && lasti >= l.lastIndex())
}

// maybeAppend appends ents after (index, logTerm) if that entry matches, truncating any
// conflicting suffix. It returns the index of the last new entry, the entries actually
// written (nil if all were already present) and whether the append was accepted.
func (l *raftLog) maybeAppend(index, logTerm, committed uint64, ents []Entry) (uint64, []Entry, bool) {
	if !l.matchTerm(index, logTerm) {
		return 0, nil, false
	}
	lastNew := index + uint64(len(ents))
	var written []Entry
	if ci := l.findConflict(ents); ci != 0 {
		if ci <= l.committed {
			panic(fmt.Sprintf("raft: entry %d conflicts with committed entry (committed %d)", ci, l.committed))
		}
		written = ents[ci-index-1:]
		l.append(written...)
	}
	l.commitTo(min(committed, lastNew))
	return lastNew, written, true
}

// findConflict returns the index of the first entry of ents that is not in the log (a
// different term or beyond the end), or 0 if all are present.
func (l *raftLog) findConflict(ents []Entry) uint64 {
	for _, e := range ents {
		if !l.matchTerm(e.Index, e.Term) {
			return e.Index
		}
	}
	return 0
}

// findConflictByTerm returns the largest index <= index whose term is <= term, and that
// term. Used on both sides of fast backtracking: every entry above it is known not to
// match an entry of term <= term.
func (l *raftLog) findConflictByTerm(index, term uint64) (uint64, uint64) {
	for ; index > 0; index-- {
		t, err := l.term(index)
		if err != nil {
			return index, 0
		}
		if t <= term {
			return index, t
		}
	}
	return 0, 0
}

func (l *raftLog) append(ents ...Entry) uint64 {
	if len(ents) == 0 {
		return l.lastIndex()
	}
	if after := ents[0].Index - 1; after < l.committed {
		panic(fmt.Sprintf("raft: append after %d is below committed %d", after, l.committed))
	}
	l.unstable.truncateAndAppend(ents)
	return l.lastIndex()
}

func (l *raftLog) commitTo(i uint64) {
	if i <= l.committed {
		return
	}
	if i > l.lastIndex() {
		panic(fmt.Sprintf("raft: commit %d is out of range [last index %d]", i, l.lastIndex()))
	}
	l.committed = i
}

// slice returns entries in [lo, hi) of total size at most maxSize (at least one).
func (l *raftLog) slice(lo, hi, maxSize uint64) ([]Entry, error) {
	if lo >= hi {
		return nil, nil
	}
	if lo < l.firstIndex() {
		return nil, ErrCompacted
	}
	if hi > l.lastIndex()+1 {
		panic(fmt.Sprintf("raft: slice [%d,%d) beyond last index %d", lo, hi, l.lastIndex()))
	}
	var ents []Entry
	if lo < l.unstable.offset {
		stored, err := l.storage.Entries(lo, min(hi, l.unstable.offset), maxSize)
		if err != nil {
			return nil, err
		}
		if uint64(len(stored)) < min(hi, l.unstable.offset)-lo || hi <= l.unstable.offset {
			return stored, nil
		}
		ents = stored[:len(stored):len(stored)] // never append into storage's array
	}
	if hi > l.unstable.offset {
		ents = append(ents, l.unstable.slice(max(lo, l.unstable.offset), hi)...)
	}
	return limitSize(ents, maxSize), nil
}

// entriesFrom returns entries from i on, limited by maxSize.
func (l *raftLog) entriesFrom(i, maxSize uint64) ([]Entry, error) {
	if i > l.lastIndex() {
		return nil, nil
	}
	return l.slice(i, l.lastIndex()+1, maxSize)
}

// nextCommitted returns the committed entries not yet handed to the application. They may
// still be unstable: the driver persists a Ready's Entries before applying its
// CommittedEntries. Nothing is returned while a snapshot waits to be persisted.
func (l *raftLog) nextCommitted() []Entry {
	if l.unstable.snapshot != nil || l.applying >= l.committed {
		return nil
	}
	ents, err := l.slice(l.applying+1, l.committed+1, noLimit)
	if err != nil {
		panic(fmt.Sprintf("raft: committed entries [%d,%d]: %v", l.applying+1, l.committed, err))
	}
	return ents
}

func (l *raftLog) hasNextCommitted() bool {
	return l.unstable.snapshot == nil && l.applying < l.committed
}

func (l *raftLog) snapshot() (Snapshot, error) {
	if l.unstable.snapshot != nil {
		return *l.unstable.snapshot, nil
	}
	return l.storage.Snapshot()
}

// restore replaces the log with snapshot s.
func (l *raftLog) restore(s Snapshot) {
	l.committed = s.Metadata.Index
	l.applying = max(l.applying, s.Metadata.Index)
	l.applied = max(l.applied, s.Metadata.Index)
	l.unstable.restore(s)
}

const noLimit = ^uint64(0)
