package rsm

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/raft"
)

func ents(term uint64, from, to uint64) []raft.Entry {
	var out []raft.Entry
	for i := from; i <= to; i++ {
		out = append(out, raft.Entry{Term: term, Index: i, Data: []byte{byte(i)}})
	}
	return out
}

func replayAll(t *testing.T, recs ...[]byte) *raft.MemoryStorage {
	t.Helper()
	ms := raft.NewMemoryStorage()
	for _, r := range recs {
		require.NoError(t, replay(ms, r))
	}
	return ms
}

func TestReplayRebuildsTheLog(t *testing.T) {
	hs := raft.HardState{Term: 3, Vote: 2, Commit: 4}
	ms := replayAll(t,
		encodeEntries(ents(1, 1, 5)),
		encodeHardState(raft.HardState{Term: 1, Vote: 1}),
		encodeEntries(ents(3, 4, 6)), // a new leader overwrote 4 and 5
		encodeHardState(hs),
	)
	got, _, err := ms.InitialState()
	require.NoError(t, err)
	assert.Equal(t, hs, got)
	last, _ := ms.LastIndex()
	assert.Equal(t, uint64(6), last)
	term, _ := ms.Term(4)
	assert.Equal(t, uint64(3), term)
}

// A snapshot this node took keeps the entries after it; one the leader sent replaces a log
// that does not match it.
func TestReplaySnapshots(t *testing.T) {
	own := raft.Snapshot{Data: []byte("s"), Metadata: raft.SnapshotMetadata{Index: 3, Term: 1, ConfState: raft.ConfState{Voters: []uint64{1, 2, 3}}}}
	ms := replayAll(t, encodeEntries(ents(1, 1, 6)), encodeSnapshot(own))
	first, _ := ms.FirstIndex()
	last, _ := ms.LastIndex()
	assert.Equal(t, []uint64{4, 6}, []uint64{first, last})

	sent := raft.Snapshot{Data: []byte("l"), Metadata: raft.SnapshotMetadata{Index: 9, Term: 4, ConfState: raft.ConfState{Voters: []uint64{1, 2, 3}}}}
	ms = replayAll(t, encodeEntries(ents(1, 1, 6)), encodeSnapshot(sent), encodeEntries(ents(4, 10, 11)))
	first, _ = ms.FirstIndex()
	last, _ = ms.LastIndex()
	assert.Equal(t, []uint64{10, 11}, []uint64{first, last})
	snap, _ := ms.Snapshot()
	assert.Equal(t, sent, snap)

	// A rotated segment replayed alone: snapshot, then entries that start before it.
	ms = replayAll(t, encodeSnapshot(own), encodeEntries(ents(1, 2, 6)))
	first, _ = ms.FirstIndex()
	last, _ = ms.LastIndex()
	assert.Equal(t, []uint64{4, 6}, []uint64{first, last})
}

func TestReplayRejectsGarbage(t *testing.T) {
	for _, rec := range [][]byte{nil, {9}, {recEntries, 5}, {recHardState, 0x80}, {recSnapshot, 1, 1, 200}} {
		assert.Error(t, replay(raft.NewMemoryStorage(), rec), "%x", rec)
	}
}

func FuzzReplay(f *testing.F) {
	f.Add(encodeEntries(ents(1, 1, 3)))
	f.Add(encodeHardState(raft.HardState{Term: 2, Vote: 1, Commit: 1}))
	f.Add(encodeSnapshot(raft.Snapshot{Data: []byte("x"), Metadata: raft.SnapshotMetadata{Index: 2, Term: 1}}))
	f.Fuzz(func(t *testing.T, rec []byte) {
		ms := raft.NewMemoryStorage()
		_ = replay(ms, rec) // must not panic whatever the bytes
	})
}

func TestSessionsRoundTrip(t *testing.T) {
	s := sessions{}
	s.record(7, 3, 2, []byte("ok"))
	s.record(2, 9, 8, nil)
	_, d := s.lookup(7, 4)
	assert.Equal(t, dupNew, d)
	res, d := s.lookup(7, 3)
	assert.Equal(t, dupLatest, d)
	assert.Equal(t, []byte("ok"), res)
	_, d = s.lookup(7, 2)
	assert.Equal(t, dupStale, d)

	enc := append(s.encode(), "rest"...)
	got, rest, err := decodeSessions(enc)
	require.NoError(t, err)
	assert.Equal(t, []byte("rest"), rest)
	assert.Equal(t, s.encode(), got.encode())
}

// TestSessionsSeveralOutstanding: a client with several commands in flight keeps every
// applied result above its floor, and a command it gave up on (below a later ack) is
// never applied afterwards.
func TestSessionsSeveralOutstanding(t *testing.T) {
	s := sessions{}
	s.record(5, 2, 0, []byte("two")) // 1 and 3 still outstanding
	s.record(5, 4, 0, []byte("four"))
	for seq, want := range map[uint64]dup{1: dupNew, 2: dupLatest, 3: dupNew, 4: dupLatest, 5: dupNew} {
		_, d := s.lookup(5, seq)
		assert.Equal(t, want, d, "seq %d", seq)
	}
	s.ack(5, 3) // 1 and 3 given up on, 2 answered
	for seq, want := range map[uint64]dup{1: dupStale, 2: dupStale, 3: dupStale, 4: dupLatest, 5: dupNew} {
		_, d := s.lookup(5, seq)
		assert.Equal(t, want, d, "seq %d", seq)
	}
	assert.Len(t, s[5].done, 1, "results at or below the floor are forgotten")
	s.ack(5, 1)
	assert.Equal(t, uint64(3), s[5].floor, "the floor never goes down")

	got, _, err := decodeSessions(s.encode())
	require.NoError(t, err)
	assert.Equal(t, s.encode(), got.encode())
}

// TestBootstrapRecords: a server started on bootstrap records comes up with the
// application state they carry and the given voters, and, alone, elects itself.
func TestBootstrapRecords(t *testing.T) {
	src := &testApp{}
	src.Apply([]byte("a"))
	src.Apply([]byte("b"))
	recs := BootstrapRecords(src.Snapshot(), []c.NodeID{1}, nil)
	s := NewServer(Config{ID: 1, Peers: []c.NodeID{1}, NewApp: func() Application { return &testApp{} }}, rand.New(rand.NewPCG(1, 2)))
	s.Handle(0, c.Start{Disk: c.Recovery{Files: map[string][][]byte{BootstrapFile: recs}}})
	st, ok := s.Status()
	require.True(t, ok)
	require.Equal(t, []uint64{1}, st.Config.Voters)
	require.Equal(t, src.Snapshot(), s.App().Snapshot())
}

// testApp is a log of applied commands.
type testApp struct{ log []string }

func (a *testApp) Apply(cmd []byte) []byte { a.log = append(a.log, string(cmd)); return nil }
func (a *testApp) Read([]byte) []byte      { return []byte(strings.Join(a.log, ",")) }
func (a *testApp) Snapshot() []byte        { return []byte(strings.Join(a.log, ",")) }
func (a *testApp) Restore(b []byte) error {
	a.log = strings.Split(string(b), ",")
	return nil
}
