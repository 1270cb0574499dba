package rsm

import (
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	c "github.com/orrery/orrery/node/component"
)

// The identity records and the cluster ID as host/member wrote and derived them before the
// identity moved here: data dirs written then must still start, and a cluster's members
// must agree on its ID whichever version derived it.
const (
	goldenNewIdentity    = "01028ad7baa4cae49aee033b010201026e31011668747470733a2f2f612e6578616d706c653a323338300002026e320115687474703a2f2f3132372e302e302e313a3233383000020100"
	goldenJoinedIdentity = "01d1df046302010024010201026e31010a687474703a2f2f783a3100d1df0400010a687474703a2f2f793a3201"
	goldenClusterID      = 278215082113936266
)

func goldenPeers() []Member {
	return []Member{
		{ID: 2, Name: "n2", PeerURLs: []string{"http://127.0.0.1:2380"}},
		{ID: 1, Name: "n1", PeerURLs: []string{"https://a.example:2380"}},
	}
}

func goldenJoined() Identity {
	return Identity{ID: 77777, ClusterID: 99, Contacts: []Member{
		{ID: 1, Name: "n1", PeerURLs: []string{"http://x:1"}},
		{ID: 77777, PeerURLs: []string{"http://y:2"}, Learner: true},
	}}
}

func TestIdentityFormatIsUnchanged(t *testing.T) {
	id, err := NewIdentity(2, goldenPeers())
	require.NoError(t, err)
	assert.Equal(t, uint64(goldenClusterID), id.ClusterID)
	assert.Equal(t, []uint64{1, 2}, []uint64{id.Initial[0].ID, id.Initial[1].ID}, "initial members by ID")
	assert.Equal(t, goldenNewIdentity, hex.EncodeToString(id.Encode()))
	assert.Equal(t, goldenJoinedIdentity, hex.EncodeToString(goldenJoined().Encode()))

	for _, golden := range []string{goldenNewIdentity, goldenJoinedIdentity} {
		b, _ := hex.DecodeString(golden)
		got, err := DecodeIdentity(b)
		require.NoError(t, err)
		assert.Equal(t, golden, hex.EncodeToString(got.Encode()))
	}
}

func TestNewIdentityNeedsSelf(t *testing.T) {
	_, err := NewIdentity(3, goldenPeers())
	require.EqualError(t, err, "member 3 is not in the initial cluster")
	// The order of the list matters to the cluster ID, not the set's order in the record.
	swapped := goldenPeers()
	swapped[0], swapped[1] = swapped[1], swapped[0]
	assert.NotEqual(t, ClusterIDOf(goldenPeers()), ClusterIDOf(swapped))
}

func TestRecordedIdentity(t *testing.T) {
	_, ok, err := RecordedIdentity(c.Recovery{Files: map[string][][]byte{"wal-1": {{1}}}})
	require.NoError(t, err)
	require.False(t, ok)
	first, _ := NewIdentity(2, goldenPeers())
	rec := c.Recovery{Files: map[string][][]byte{IdentityFile: {first.Encode(), goldenJoined().Encode()}}}
	id, ok, err := RecordedIdentity(rec)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, goldenJoined().String(), id.String(), "the last record counts")
	_, _, err = RecordedIdentity(c.Recovery{Files: map[string][][]byte{IdentityFile: {{2}}}})
	require.ErrorIs(t, err, ErrBadIdentity)
}

func TestDecodeIdentityRejects(t *testing.T) {
	good := goldenJoined().Encode()
	for name, b := range map[string][]byte{
		"empty":     nil,
		"format":    {2, 1, 1},
		"truncated": good[:len(good)-3],
		"no id":     Identity{ClusterID: 4}.Encode(),
		"length":    {1, 1, 1, 0x7f},
		"table":     {1, 1, 1, 2, 9, 0},
	} {
		_, err := DecodeIdentity(b)
		require.ErrorIs(t, err, ErrBadIdentity, name)
	}
}

func FuzzDecodeIdentity(f *testing.F) {
	for _, golden := range []string{goldenNewIdentity, goldenJoinedIdentity} {
		b, _ := hex.DecodeString(golden)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := DecodeIdentity(b)
		if err != nil {
			require.ErrorIs(t, err, ErrBadIdentity)
			return
		}
		again, err := DecodeIdentity(id.Encode())
		require.NoError(t, err)
		require.Equal(t, id.String(), again.String())
	})
}
