package raft

import (
	"errors"
	"fmt"
)

// Errors a Storage returns.
var (
	// ErrCompacted: the requested index is at or below the snapshot (compacted away).
	ErrCompacted = errors.New("raft: requested index is unavailable due to compaction")
	// ErrUnavailable: the requested index is above the last index.
	ErrUnavailable = errors.New("raft: requested entry at index is unavailable")
	// ErrSnapshotOutOfDate: a snapshot older than the current one was offered.
	ErrSnapshotOutOfDate = errors.New("raft: requested index is older than the existing snapshot")
	// ErrSnapshotTemporarilyUnavailable: no snapshot can be produced right now; raft retries
	// later (a leader simply does not send one yet).
	ErrSnapshotTemporarilyUnavailable = errors.New("raft: snapshot is temporarily unavailable")
)

// Storage is the read side of the durable raft state, as raft sees it.
//
// Contract:
//   - Only durable (synced) state is visible: the driver writes Ready.Entries, HardState and
//     Snapshot into the storage, syncs, and only then calls Advance. Raft never writes.
//   - The log is contiguous from FirstIndex to LastIndex; FirstIndex-1 is the index of the
//     last snapshot (its term is still available through Term).
//   - Returned slices are owned by the storage and must not be modified by raft; the storage
//     must not modify them after returning them either (copy-on-write), because raft may
//     hold on to them and put them in messages.
//   - Calls happen on the raft goroutine only; implementations need no locking for raft's
//     sake (MemoryStorage locks nothing: the driver serialises access).
//   - An error other than the sentinels below is treated as fatal (raft panics).
type Storage interface {
	// InitialState returns the persisted HardState and the ConfState of the snapshot.
	InitialState() (HardState, ConfState, error)
	// Entries returns the entries in [lo, hi), at least one if any exist, with total size
	// at most maxSize beyond the first. ErrCompacted if lo <= the snapshot index,
	// ErrUnavailable if hi > LastIndex()+1.
	Entries(lo, hi, maxSize uint64) ([]Entry, error)
	// Term returns the term of entry i, for i in [FirstIndex()-1, LastIndex()].
	// ErrCompacted below, ErrUnavailable above.
	Term(i uint64) (uint64, error)
	// FirstIndex is the index of the first entry that may be read (snapshot index + 1).
	FirstIndex() (uint64, error)
	// LastIndex is the index of the last entry (the snapshot index when the log is empty).
	LastIndex() (uint64, error)
	// Snapshot returns the most recent snapshot, or ErrSnapshotTemporarilyUnavailable.
	Snapshot() (Snapshot, error)
}

// MemoryStorage is a Storage held in memory, also usable as the driver's write side
// (Append, SetHardState, ApplySnapshot, CreateSnapshot, Compact). It does no locking.
type MemoryStorage struct {
	hardState HardState
	snapshot  Snapshot
	// ents[0] is a dummy entry holding the snapshot's index and term.
	ents []Entry
}

// NewMemoryStorage returns an empty storage.
func NewMemoryStorage() *MemoryStorage {
	return &MemoryStorage{ents: make([]Entry, 1)}
}

// InitialState implements Storage.
func (ms *MemoryStorage) InitialState() (HardState, ConfState, error) {
	return ms.hardState, ms.snapshot.Metadata.ConfState, nil
}

// SetHardState records the hard state.
func (ms *MemoryStorage) SetHardState(hs HardState) { ms.hardState = hs }

func (ms *MemoryStorage) offset() uint64 { return ms.ents[0].Index }

func (ms *MemoryStorage) lastIndex() uint64 { return ms.offset() + uint64(len(ms.ents)) - 1 }

// Entries implements Storage.
func (ms *MemoryStorage) Entries(lo, hi, maxSize uint64) ([]Entry, error) {
	if lo <= ms.offset() {
		return nil, ErrCompacted
	}
	if hi > ms.lastIndex()+1 {
		return nil, fmt.Errorf("entries [%d,%d) beyond last index %d: %w", lo, hi, ms.lastIndex(), ErrUnavailable)
	}
	ents := ms.ents[lo-ms.offset() : hi-ms.offset()]
	return limitSize(ents, maxSize), nil
}

// Term implements Storage.
func (ms *MemoryStorage) Term(i uint64) (uint64, error) {
	if i < ms.offset() {
		return 0, ErrCompacted
	}
	if i > ms.lastIndex() {
		return 0, ErrUnavailable
	}
	return ms.ents[i-ms.offset()].Term, nil
}

// FirstIndex implements Storage.
func (ms *MemoryStorage) FirstIndex() (uint64, error) { return ms.offset() + 1, nil }

// LastIndex implements Storage.
func (ms *MemoryStorage) LastIndex() (uint64, error) { return ms.lastIndex(), nil }

// Snapshot implements Storage.
func (ms *MemoryStorage) Snapshot() (Snapshot, error) { return ms.snapshot, nil }

// ApplySnapshot replaces the storage's contents with snap (a snapshot received from the
// leader). ErrSnapshotOutOfDate if it is older than the current snapshot.
func (ms *MemoryStorage) ApplySnapshot(snap Snapshot) error {
	if snap.Metadata.Index <= ms.snapshot.Metadata.Index {
		return ErrSnapshotOutOfDate
	}
	ms.snapshot = snap
	ms.ents = []Entry{{Term: snap.Metadata.Term, Index: snap.Metadata.Index}}
	return nil
}

// CreateSnapshot records a snapshot of the application state at index i (which must be
// applied, hence in the log) with configuration cs, and returns it. It does not discard
// entries; call Compact for that.
func (ms *MemoryStorage) CreateSnapshot(i uint64, cs ConfState, data []byte) (Snapshot, error) {
	if i <= ms.snapshot.Metadata.Index {
		return Snapshot{}, ErrSnapshotOutOfDate
	}
	if i > ms.lastIndex() {
		return Snapshot{}, fmt.Errorf("snapshot at %d beyond last index %d: %w", i, ms.lastIndex(), ErrUnavailable)
	}
	ms.snapshot = Snapshot{Data: data, Metadata: SnapshotMetadata{
		Index: i, Term: ms.ents[i-ms.offset()].Term, ConfState: cs,
	}}
	return ms.snapshot, nil
}

// Compact discards the entries up to and including i. The caller must have created a
// snapshot at i or later first (raft needs one to catch up followers).
func (ms *MemoryStorage) Compact(i uint64) error {
	if i <= ms.offset() {
		return ErrCompacted
	}
	if i > ms.lastIndex() {
		return fmt.Errorf("compact %d beyond last index %d: %w", i, ms.lastIndex(), ErrUnavailable)
	}
	k := i - ms.offset()
	ents := make([]Entry, 1, uint64(len(ms.ents))-k)
	ents[0] = Entry{Index: ms.ents[k].Index, Term: ms.ents[k].Term}
	ms.ents = append(ents, ms.ents[k+1:]...)
	return nil
}

// Append writes entries, replacing any existing entries at the same and later indexes.
// Entries at or below the snapshot are ignored. The first entry must not leave a gap.
func (ms *MemoryStorage) Append(ents []Entry) error {
	if len(ents) == 0 {
		return nil
	}
	first := ms.offset() + 1
	if last := ents[len(ents)-1].Index; last < first {
		return nil
	}
	if ents[0].Index < first {
		ents = ents[first-ents[0].Index:]
	}
	if ents[0].Index > ms.lastIndex()+1 {
		return fmt.Errorf("raft: append at %d leaves a gap after last index %d", ents[0].Index, ms.lastIndex())
	}
	keep := ents[0].Index - ms.offset()
	if keep == uint64(len(ms.ents)) {
		ms.ents = append(ms.ents, ents...)
		return nil
	}
	// Truncating: copy so that slices handed out earlier are never modified.
	out := make([]Entry, 0, keep+uint64(len(ents)))
	out = append(out, ms.ents[:keep]...)
	ms.ents = append(out, ents...)
	return nil
}

// limitSize returns the longest prefix of ents (at least one entry) whose total size does
// not exceed maxSize.
func limitSize(ents []Entry, maxSize uint64) []Entry {
	if len(ents) == 0 {
		return ents
	}
	size := ents[0].size()
	for k := 1; k < len(ents); k++ {
		size += ents[k].size()
		if size > maxSize {
			return ents[:k]
		}
	}
	return ents
}
