package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ents(termIndex ...uint64) []Entry {
	var out []Entry
	for i := 0; i+1 < len(termIndex); i += 2 {
		out = append(out, Entry{Term: termIndex[i], Index: termIndex[i+1]})
	}
	return out
}

// storageWith returns a storage whose snapshot is at 3 (term 3) holding entries 4..5.
func storageWith(t *testing.T) *MemoryStorage {
	ms := NewMemoryStorage()
	require.NoError(t, ms.ApplySnapshot(Snapshot{Metadata: SnapshotMetadata{Index: 3, Term: 3}}))
	require.NoError(t, ms.Append(ents(4, 4, 5, 5)))
	return ms
}

func TestMemoryStorageTerm(t *testing.T) {
	ms := storageWith(t)
	for _, tc := range []struct {
		i    uint64
		term uint64
		err  error
	}{
		{2, 0, ErrCompacted}, {3, 3, nil}, {4, 4, nil}, {5, 5, nil}, {6, 0, ErrUnavailable},
	} {
		term, err := ms.Term(tc.i)
		assert.ErrorIs(t, err, tc.err, "index %d", tc.i)
		assert.Equal(t, tc.term, term, "index %d", tc.i)
	}
	first, _ := ms.FirstIndex()
	last, _ := ms.LastIndex()
	assert.Equal(t, uint64(4), first)
	assert.Equal(t, uint64(5), last)
}

func TestMemoryStorageEntries(t *testing.T) {
	ms := storageWith(t)
	require.NoError(t, ms.Append([]Entry{{Term: 5, Index: 6, Data: []byte("0123456789")}}))
	for _, tc := range []struct {
		lo, hi, max uint64
		want        []Entry
		err         error
	}{
		{3, 5, noLimit, nil, ErrCompacted},
		{4, 8, noLimit, nil, ErrUnavailable},
		{4, 6, noLimit, ents(4, 4, 5, 5), nil},
		{4, 6, 0, ents(4, 4), nil},        // at least one entry
		{4, 6, 32, ents(4, 4, 5, 5), nil}, // 16 + 16 bytes
		{4, 7, 40, ents(4, 4, 5, 5), nil},
	} {
		got, err := ms.Entries(tc.lo, tc.hi, tc.max)
		assert.ErrorIs(t, err, tc.err, "[%d,%d) max %d", tc.lo, tc.hi, tc.max)
		if tc.err == nil {
			assert.Equal(t, tc.want, got, "[%d,%d) max %d", tc.lo, tc.hi, tc.max)
		}
	}
}

func TestMemoryStorageAppend(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []Entry
		want []Entry
		err  bool
	}{
		{"below snapshot is ignored", ents(1, 1, 2, 2), ents(4, 4, 5, 5), false},
		{"overlap with snapshot is trimmed", ents(3, 3, 4, 4, 6, 5, 6, 6), ents(4, 4, 6, 5, 6, 6), false},
		{"extend", ents(6, 6), ents(4, 4, 5, 5, 6, 6), false},
		{"truncate conflict", ents(6, 5), ents(4, 4, 6, 5), false},
		{"gap", ents(7, 7), ents(4, 4, 5, 5), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms := storageWith(t)
			before, _ := ms.Entries(4, 6, noLimit)
			err := ms.Append(tc.in)
			if tc.err {
				assert.Error(t, err)
			} else {
				require.NoError(t, err)
			}
			last, _ := ms.LastIndex()
			got, err := ms.Entries(4, last+1, noLimit)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, ents(4, 4, 5, 5), before, "slices handed out earlier must not change")
		})
	}
}

func TestMemoryStorageSnapshotAndCompact(t *testing.T) {
	ms := storageWith(t)
	cs := ConfState{Voters: []uint64{1, 2, 3}}
	_, err := ms.CreateSnapshot(3, cs, nil)
	assert.ErrorIs(t, err, ErrSnapshotOutOfDate)
	_, err = ms.CreateSnapshot(6, cs, nil)
	assert.ErrorIs(t, err, ErrUnavailable)
	snap, err := ms.CreateSnapshot(5, cs, []byte("state"))
	require.NoError(t, err)
	assert.Equal(t, SnapshotMetadata{Index: 5, Term: 5, ConfState: cs}, snap.Metadata)

	require.NoError(t, ms.Compact(4))
	assert.ErrorIs(t, ms.Compact(4), ErrCompacted)
	assert.ErrorIs(t, ms.Compact(9), ErrUnavailable)
	first, _ := ms.FirstIndex()
	assert.Equal(t, uint64(5), first)
	term, err := ms.Term(4)
	require.NoError(t, err)
	assert.Equal(t, uint64(4), term)

	_, gotCS, _ := ms.InitialState()
	assert.Equal(t, cs, gotCS)
	assert.ErrorIs(t, ms.ApplySnapshot(Snapshot{Metadata: SnapshotMetadata{Index: 5, Term: 5}}), ErrSnapshotOutOfDate)
	require.NoError(t, ms.ApplySnapshot(Snapshot{Metadata: SnapshotMetadata{Index: 9, Term: 7}}))
	last, _ := ms.LastIndex()
	assert.Equal(t, uint64(9), last)
}
