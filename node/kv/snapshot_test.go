package kv

import (
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randomStore applies n random commands to a fresh store and returns it with the commands.
func randomStore(t testing.TB, seed uint64, n int) (*Store, []Command) {
	g := newGen(seed)
	s := New(Config{})
	var cmds []Command
	for range n {
		c := g.command(s.Rev(), s.CompactRevision())
		cmds = append(cmds, c)
		s.Apply(c)
	}
	return s, cmds
}

func TestSnapshotRoundTrip(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		s, _ := randomStore(t, seed, 300)
		snap := s.Snapshot()
		r, err := Restore(snap, Config{})
		require.NoError(t, err, "seed %d", seed)
		assert.Equal(t, snap, r.Snapshot(), "seed %d", seed)
		for rev := max(s.CompactRevision(), 0); rev <= s.Rev(); rev++ {
			h1, c1, err1 := s.HashKV(rev)
			h2, c2, err2 := r.HashKV(rev)
			require.NoError(t, err1)
			require.NoError(t, err2)
			assert.Equal(t, h1, h2, "seed %d rev %d", seed, rev)
			assert.Equal(t, c1, c2)
		}
		all := RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}}
		want, _ := s.Range(all)
		got, _ := r.Range(all)
		assert.Equal(t, want, got)
		assert.Equal(t, s.Leases(), r.Leases())
		// The restored store goes on exactly like the original.
		g := newGen(seed + 1000)
		for range 50 {
			c := g.command(s.Rev(), s.CompactRevision())
			require.Equal(t, s.Apply(c), r.Apply(c))
		}
		assert.Equal(t, s.Snapshot(), r.Snapshot())
	}
}

func TestDeterminism(t *testing.T) {
	s1, cmds := randomStore(t, 5, 500)
	s2 := New(Config{})
	for _, c := range cmds {
		// Apply a decoded copy, as a follower would.
		dc, err := DecodeCommand(c.Encode())
		require.NoError(t, err)
		s2.Apply(dc)
	}
	assert.Equal(t, s1.Snapshot(), s2.Snapshot())
	h1, _, _ := s1.HashKV(0)
	h2, _, _ := s2.HashKV(0)
	assert.Equal(t, h1, h2)
}

func TestHashKV(t *testing.T) {
	s := New(Config{})
	h0, c0, err := s.HashKV(0)
	require.NoError(t, err)
	assert.Equal(t, int64(-1), c0)
	mustPut(t, s, "a", "1")
	h1, _, _ := s.HashKV(0)
	assert.NotEqual(t, h0, h1)
	hAt1, _, _ := s.HashKV(1)
	assert.Equal(t, h0, hAt1, "the hash at a revision ignores later writes")

	other := New(Config{})
	mustPut(t, other, "a", "2")
	h2, _, _ := other.HashKV(0)
	assert.NotEqual(t, h1, h2)

	mustPut(t, s, "a", "2")
	mustPut(t, s, "b", "1")
	mustApply(t, s, Command{Compaction: &CompactionRequest{Revision: 3}})
	_, _, err = s.HashKV(2)
	assert.ErrorIs(t, err, ErrCompacted)
	_, _, err = s.HashKV(9)
	assert.ErrorIs(t, err, ErrFutureRev)
	_, c, err := s.HashKV(0)
	require.NoError(t, err)
	assert.Equal(t, int64(3), c)
}

func TestRestoreErrors(t *testing.T) {
	s, _ := randomStore(t, 3, 100)
	snap := s.Snapshot()
	flipped := append([]byte{}, snap...)
	flipped[len(flipped)/2] ^= 1
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "not a snapshot"},
		{"bad magic", append([]byte("XXXX"), snap[4:]...), "not a snapshot"},
		{"bit flip", flipped, "checksum mismatch"},
		{"truncated", snap[:len(snap)-10], "checksum mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Restore(tc.in, Config{})
			require.ErrorIs(t, err, ErrMalformed)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// FuzzRestore feeds snapshot bodies with a valid checksum, so that the structural checks
// behind it are exercised: Restore must refuse or give a store that snapshots to the same
// bytes and keeps working.
func FuzzRestore(f *testing.F) {
	for seed := uint64(1); seed <= 4; seed++ {
		s, _ := randomStore(f, seed, 40)
		snap := s.Snapshot()
		f.Add(snap[:len(snap)-4])
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		data := binary.BigEndian.AppendUint32(append([]byte{}, body...), crc32.Checksum(body, castagnoli))
		s, err := Restore(data, Config{})
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		again, err := Restore(s.Snapshot(), Config{})
		require.NoError(t, err)
		require.Equal(t, s.Snapshot(), again.Snapshot())
		g := newGen(1)
		for range 20 {
			s.Apply(g.command(s.Rev(), s.CompactRevision()))
		}
		s.Watches().Watch(WatchRequest{Key: []byte{0}, RangeEnd: []byte{0}, StartRevision: 1})
		s.Watches().Take()
	})
}
