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
		{ConfChange{Type: ConfChangeAddVoter, NodeID: 5}, ConfState{Voters: []uint64{1, 2, 3, 5}, Learners: []uint64{4}}, false},
		{ConfChange{Type: ConfChangeAddVoter, NodeID: 4}, ConfState{Voters: []uint64{1, 2, 3, 4}, Learners: []uint64{}}, false},
		{ConfChange{Type: ConfChangeAddVoter, NodeID: 2}, ConfState{}, true},
		{ConfChange{Type: ConfChangeAddLearner, NodeID: 5}, ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{4, 5}}, false},
		{ConfChange{Type: ConfChangeAddLearner, NodeID: 1}, ConfState{}, true},
		{ConfChange{Type: ConfChangeRemove, NodeID: 1}, ConfState{Voters: []uint64{2, 3}, Learners: []uint64{4}}, false},
		{ConfChange{Type: ConfChangeRemove, NodeID: 4}, ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{}}, false},
		{ConfChange{Type: ConfChangeRemove, NodeID: 9}, ConfState{}, true},
		{ConfChange{Type: ConfChangeAddVoter, NodeID: 0}, ConfState{}, true},
		{ConfChange{Type: 9, NodeID: 5}, ConfState{}, true},
	} {
		got, err := base.Apply(tc.cc)
		if tc.err {
			assert.ErrorIs(t, err, ErrBadConfChange, "%+v", tc.cc)
			continue
		}
		require.NoError(t, err, "%+v", tc.cc)
		assert.Equal(t, tc.want, got, "%+v", tc.cc)
	}
	_, err := ConfState{Voters: []uint64{1}}.Apply(ConfChange{Type: ConfChangeRemove, NodeID: 1})
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

// TestConfChangeContext: a change's Context survives the entry encoding and the leader's
// re-encoding with the resulting configuration, and a change without one keeps format 1.
func TestConfChangeContext(t *testing.T) {
	c := ConfChangeEntry{
		Change: ConfChange{Type: ConfChangeAddVoter, NodeID: 7, Context: []byte("n7=http://10.0.0.7:2380")},
		State:  ConfState{Voters: []uint64{1, 7}},
	}
	data := EncodeConfChange(c)
	assert.Equal(t, byte(2), data[0])
	got, err := DecodeConfChange(data)
	require.NoError(t, err)
	assert.Equal(t, c, got)
	_, err = DecodeConfChange(data[:len(data)-1])
	assert.ErrorIs(t, err, ErrBadEncoding, "truncated context")

	plain := EncodeConfChange(ConfChangeEntry{Change: ConfChange{Type: ConfChangeRemove, NodeID: 7}})
	assert.Equal(t, byte(1), plain[0])

	e := newEnv(t)
	require.NoError(t, e.addNode(1, ConfState{Voters: []uint64{1}}, 0, Config{}))
	require.NoError(t, e.node(1).Campaign())
	e.stabilize()
	require.NoError(t, e.node(1).ProposeConfChange(ConfChange{Type: ConfChangeAddLearner, NodeID: 9, Context: []byte("ctx")}))
	rd := e.node(1).Ready()
	require.NotEmpty(t, rd.Entries)
	last := rd.Entries[len(rd.Entries)-1]
	require.Equal(t, EntryConfChange, last.Type)
	cce, err := DecodeConfChange(last.Data)
	require.NoError(t, err)
	assert.Equal(t, []byte("ctx"), cce.Change.Context)
	assert.Equal(t, []uint64{9}, cce.State.Learners)
}

// FuzzDecodeConfChange: decoding never panics, and whatever decodes re-encodes to the same
// bytes.
func FuzzDecodeConfChange(f *testing.F) {
	f.Add(EncodeConfChange(ConfChangeEntry{Change: ConfChange{Type: ConfChangeAddVoter, NodeID: 4}, State: ConfState{Voters: []uint64{1, 4}}}))
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
