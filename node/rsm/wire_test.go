package rsm

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/raft"
)

func wireSamples() []c.Message {
	return []c.Message{
		peer{M: raft.Message{Type: raft.MsgApp, From: 1, To: 2, Term: 3, LogTerm: 2, Index: 9, Commit: 8,
			Entries: []raft.Entry{{Term: 3, Index: 10, Data: []byte("x")}, {Term: 3, Index: 11, Type: raft.EntryConfChange}}}},
		peer{M: raft.Message{Type: raft.MsgAppResp, From: 2, To: 1, Term: 3, Index: 7, Reject: true, RejectHint: 5}},
		peer{M: raft.Message{Type: raft.MsgHeartbeat, From: 1, To: 3, Term: 4, Context: []byte("ctx")}},
		peer{M: raft.Message{Type: raft.MsgSnap, From: 1, To: 3, Term: 4, Snapshot: &raft.Snapshot{
			Data: []byte("state"), Metadata: raft.SnapshotMetadata{Index: 40, Term: 4, ConfState: raft.ConfState{Voters: []uint64{1, 2, 3}}}}}},
		Request{Client: 1 << 41, Seq: 0, Read: true, Payload: []byte("q")},
		Request{Client: 7, Seq: 3, Stream: true, Local: true},
		Reply{Client: 7, Seq: 3, Result: []byte("r")},
		Redirect{Client: 7, Seq: 3, Leader: 2},
		Pushed{Data: []byte("events")},
		Request{Client: 1 << 63, Seq: 9, Ack: 4, Payload: []byte("w")},
		Pushed{Stream: 12, Data: []byte("events")},
		RemovedNotice{},
		Announce{Name: "m1", ClientURLs: []string{"http://a:2379", "http://b:2379"}},
		Announce{},
		MembersQuery{},
		MembersAnswer{ClusterID: 7, Members: []Member{{ID: 1, Name: "n1", PeerURLs: []string{"http://a:2380"}}, {ID: 9, Learner: true}}},
		MembersAnswer{},
	}
}

func TestWireRoundTrip(t *testing.T) {
	for _, m := range wireSamples() {
		b, err := EncodeMessage(m)
		require.NoError(t, err)
		got, err := DecodeMessage(b)
		require.NoError(t, err, "%s", m)
		require.Equal(t, normalize(m), normalize(got))
	}
	_, err := EncodeMessage(c.Message(nil))
	require.Error(t, err)
}

// normalize makes empty and nil byte slices compare equal.
func normalize(m c.Message) string { return m.String() }

func TestWireRejects(t *testing.T) {
	good, err := EncodeMessage(wireSamples()[0])
	require.NoError(t, err)
	for name, b := range map[string][]byte{
		"empty":     nil,
		"kind":      {99},
		"truncated": good[:len(good)-1],
		"trailing":  append(append([]byte{}, good...), 0),
		"flags":     {wireRequest, 1, 1, 0x80, 0},
		"count":     {wirePeer, 1, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0x7f},
	} {
		_, err := DecodeMessage(b)
		require.ErrorIs(t, err, ErrBadMessage, name)
	}
}

func FuzzDecodeMessage(f *testing.F) {
	for _, m := range wireSamples() {
		b, _ := EncodeMessage(m)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			require.ErrorIs(t, err, ErrBadMessage)
			return
		}
		again, err := EncodeMessage(m)
		require.NoError(t, err)
		m2, err := DecodeMessage(again)
		require.NoError(t, err)
		require.Equal(t, m.String(), m2.String())
	})
}

// TestReadContexts: a follower's ReadIndex contexts name the member and its incarnation,
// so neither another member's nor an earlier incarnation's can be taken for its own, and
// none collides with a leader's bare counter.
func TestReadContexts(t *testing.T) {
	mk := func(id c.NodeID, seed uint64) *Server {
		return NewServer(Config{ID: id}, rand.New(rand.NewPCG(seed, 1)))
	}
	a, b, a2 := mk(2, 1), mk(3, 1), mk(2, 2)
	a.readCtx = 7
	ctx := a.followerReadContext()
	k, ok := a.readContextKey(ctx)
	require.True(t, ok)
	require.Equal(t, uint64(7), k)
	b.readNonce, a2.readNonce = a.readNonce, 0
	_, ok = b.readContextKey(ctx)
	require.False(t, ok, "another member's context")
	a2.followerReadContext()
	_, ok = a2.readContextKey(ctx)
	require.False(t, ok, "an earlier incarnation's context")
	leaderCtx := binary.AppendUvarint(nil, 7)
	require.NotEqual(t, leaderCtx[0], ctx[0])
	k, ok = a.readContextKey(leaderCtx)
	require.True(t, ok)
	require.Equal(t, uint64(7), k)
	_, ok = a.readContextKey(nil)
	require.False(t, ok)
}
