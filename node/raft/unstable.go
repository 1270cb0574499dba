package raft

import "fmt"

// unstable holds what raft has decided but the driver has not yet reported durable: an
// incoming snapshot and/or entries after it (or after the stable log).
type unstable struct {
	snapshot *Snapshot
	entries  []Entry
	// offset is the index of entries[0] (or of the next entry when entries is empty).
	offset uint64
}

func (u *unstable) firstIndex() (uint64, bool) {
	if u.snapshot != nil {
		return u.snapshot.Metadata.Index + 1, true
	}
	return 0, false
}

func (u *unstable) lastIndex() (uint64, bool) {
	if l := len(u.entries); l > 0 {
		return u.offset + uint64(l) - 1, true
	}
	if u.snapshot != nil {
		return u.snapshot.Metadata.Index, true
	}
	return 0, false
}

func (u *unstable) term(i uint64) (uint64, bool) {
	if i < u.offset {
		if u.snapshot != nil && u.snapshot.Metadata.Index == i {
			return u.snapshot.Metadata.Term, true
		}
		return 0, false
	}
	last, ok := u.lastIndex()
	if !ok || i > last {
		return 0, false
	}
	return u.entries[i-u.offset].Term, true
}

// stableTo marks entries up to i durable, if entry i still has term t.
func (u *unstable) stableTo(i, t uint64) {
	gt, ok := u.term(i)
	if !ok || gt != t || i < u.offset {
		return
	}
	u.entries = u.entries[i+1-u.offset:]
	u.offset = i + 1
	if len(u.entries) == 0 {
		u.entries = nil
	}
}

func (u *unstable) stableSnapTo(i uint64) {
	if u.snapshot != nil && u.snapshot.Metadata.Index == i {
		u.snapshot = nil
	}
}

func (u *unstable) restore(s Snapshot) {
	u.offset = s.Metadata.Index + 1
	u.entries = nil
	u.snapshot = &s
}

func (u *unstable) truncateAndAppend(ents []Entry) {
	after := ents[0].Index - 1
	switch {
	case after == u.offset+uint64(len(u.entries))-1:
		u.entries = append(u.entries, ents...)
	case after < u.offset:
		// Replaces everything unstable (and part of the stable log).
		u.offset = after + 1
		u.entries = append([]Entry(nil), ents...)
	default:
		keep := u.entries[:after+1-u.offset]
		u.entries = append(append([]Entry(nil), keep...), ents...)
	}
}

// slice returns unstable entries in [lo, hi); the caller checks bounds.
func (u *unstable) slice(lo, hi uint64) []Entry {
	if lo < u.offset || hi > u.offset+uint64(len(u.entries)) {
		panic(fmt.Sprintf("raft: unstable slice [%d,%d) out of bounds [%d,%d)", lo, hi, u.offset, u.offset+uint64(len(u.entries))))
	}
	return u.entries[lo-u.offset : hi-u.offset]
}
