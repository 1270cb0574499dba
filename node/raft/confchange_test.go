package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfStateApply(t *testing.T) {
	base := ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{4}}
	for _, tc := range []struct {
		cc   ConfChange
		want ConfState
		err  bool
	}{
		{ConfChange{ConfChangeAddVoter, 5}, ConfState{Voters: []uint64{1, 2, 3, 5}, Learners: []uint64{4}}, false},
		{ConfChange{ConfChangeAddVoter, 4}, ConfState{Voters: []uint64{1, 2, 3, 4}, Learners: []uint64{}}, false},
		{ConfChange{ConfChangeAddVoter, 2}, ConfState{}, true},
		{ConfChange{ConfChangeAddLearner, 5}, ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{4, 5}}, false},
		{ConfChange{ConfChangeAddLearner, 1}, ConfState{}, true},
		{ConfChange{ConfChangeRemove, 1}, ConfState{Voters: []uint64{2, 3}, Learners: []uint64{4}}, false},
		{ConfChange{ConfChangeRemove, 4}, ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{}}, false},
		{ConfChange{ConfChangeRemove, 9}, ConfState{}, true},
		{ConfChange{ConfChangeAddVoter, 0}, ConfState{}, true},
		{ConfChange{9, 5}, ConfState{}, true},
	} {
		got, err := base.Apply(tc.cc)
		if tc.err {
			assert.ErrorIs(t, err, ErrBadConfChange, "%+v", tc.cc)
			continue
		}
		require.NoError(t, err, "%+v", tc.cc)
		assert.Equal(t, tc.want, got, "%+v", tc.cc)
	}
	_, err := ConfState{Voters: []uint64{1}}.Apply(ConfChange{ConfChangeRemove, 1})
	assert.ErrorIs(t, err, ErrBadConfChange, "last voter")
}

func TestConfChangeEncoding(t *testing.T) {
	c := ConfChangeEntry{
		Change: ConfChange{Type: ConfChangeAddLearner, NodeID: 300},
		State:  ConfState{Voters: []uint64{1, 2, 1 << 40}, Learners: []uint64{300}},
	}
	got, err := DecodeConfChange(EncodeConfChange(c))
	require.NoError(t, err)
	assert.Equal(t, c, got)
	for _, bad := range [][]byte{nil, {1}, {2, 1, 1, 0, 0}, {1, 1, 1, 5}, append(EncodeConfChange(c), 0)} {
		_, err := DecodeConfChange(bad)
		assert.ErrorIs(t, err, ErrBadEncoding, "%v", bad)
	}
}

// FuzzDecodeConfChange: decoding never panics, and whatever decodes re-encodes to the same
// bytes.
func FuzzDecodeConfChange(f *testing.F) {
	f.Add(EncodeConfChange(ConfChangeEntry{Change: ConfChange{ConfChangeAddVoter, 4}, State: ConfState{Voters: []uint64{1, 4}}}))
	f.Add([]byte{1, 3, 0, 0, 0})
	f.Add([]byte{1, 1, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeConfChange(data)
		if err != nil {
			return
		}
		assert.Equal(t, data, EncodeConfChange(c))
	})
}

func TestConfLog(t *testing.T) {
	cl := newConfLog(5, ConfState{Voters: []uint64{1}})
	cl.observe([]Entry{
		{Index: 6},
		{Index: 7, Type: EntryConfChange, Data: EncodeConfChange(ConfChangeEntry{State: ConfState{Voters: []uint64{1, 2}}})},
		{Index: 9, Type: EntryConfChange, Data: EncodeConfChange(ConfChangeEntry{State: ConfState{Voters: []uint64{1, 2, 3}}})},
	})
	at := func(i uint64) []uint64 {
		cs, err := cl.at(i)
		require.NoError(t, err)
		return cs.Voters
	}
	assert.Equal(t, []uint64{1}, at(6))
	assert.Equal(t, []uint64{1, 2}, at(8))
	assert.Equal(t, []uint64{1, 2, 3}, at(9))
	_, err := cl.at(4)
	assert.ErrorIs(t, err, ErrCompacted)
	cl.truncate(8) // entry 9 was overwritten
	assert.Equal(t, []uint64{1, 2}, cl.current().State.Voters)
	cl.compact(8)
	assert.Equal(t, uint64(7), cl.points[0].Index)
	assert.Equal(t, []uint64{1, 2}, at(8))
}
