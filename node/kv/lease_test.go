package kv

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func grant(t *testing.T, s *Store, id LeaseID, ttl int64) *LeaseGrantResponse {
	t.Helper()
	return mustApply(t, s, Command{LeaseGrant: &LeaseGrantRequest{ID: id, TTL: ttl}}).LeaseGrant
}

func TestLeaseGrant(t *testing.T) {
	s := New(Config{MinLeaseTTL: 5})
	g := grant(t, s, 7, 60)
	assert.Equal(t, LeaseGrantResponse{Header: ResponseHeader{Revision: 1}, ID: 7, TTL: 60}, *g)
	assert.Equal(t, int64(5), grant(t, s, 8, 1).TTL, "TTL raised to the minimum")
	assert.ErrorIs(t, s.Apply(Command{LeaseGrant: &LeaseGrantRequest{ID: 7, TTL: 10}}).Err, ErrLeaseExist)
	assert.ErrorIs(t, s.Apply(Command{LeaseGrant: &LeaseGrantRequest{TTL: MaxLeaseTTL + 1}}).Err, ErrLeaseTTLTooLarge)
	assert.Equal(t, int64(1), s.Rev(), "grants take no revision")

	auto := grant(t, s, 0, 10)
	assert.Positive(t, auto.ID)
	other := New(Config{MinLeaseTTL: 5})
	grant(t, other, 7, 60)
	grant(t, other, 8, 1)
	assert.Equal(t, auto.ID, grant(t, other, 0, 10).ID, "automatic IDs are deterministic")
	assert.NotEqual(t, auto.ID, grant(t, s, 0, 10).ID)
	assert.Equal(t, []LeaseStatus{{7, 60}, {8, 5}}, s.Leases()[:2])
}

func TestLeaseAttachRevoke(t *testing.T) {
	s := New(Config{})
	grant(t, s, 1, 10)
	grant(t, s, 2, 10)
	mustApply(t, s, Command{Put: &PutRequest{Key: b("a"), Value: b("1"), Lease: 1}})
	mustApply(t, s, Command{Put: &PutRequest{Key: b("b"), Value: b("1"), Lease: 1}})
	mustApply(t, s, Command{Put: &PutRequest{Key: b("c"), Value: b("1"), Lease: 1}})
	mustApply(t, s, Command{Put: &PutRequest{Key: b("c"), Value: b("2"), Lease: 2}}) // moves c
	mustApply(t, s, Command{Put: &PutRequest{Key: b("b"), Value: b("2"), IgnoreLease: true}})
	mustApply(t, s, Command{Put: &PutRequest{Key: b("d"), Value: b("1"), Lease: 1}})
	mustApply(t, s, delCmd("d", "")) // detaches d

	ttl := s.LeaseTimeToLive(1, true)
	assert.Equal(t, [][]byte{b("a"), b("b")}, ttl.Keys)
	assert.Equal(t, int64(10), ttl.GrantedTTL)
	assert.Equal(t, int64(1), getKV(t, s, "b").Lease)
	assert.Equal(t, int64(-1), s.LeaseTimeToLive(99, true).TTL)

	rev := s.Rev()
	res := mustApply(t, s, Command{LeaseRevoke: &LeaseRevokeRequest{ID: 1}})
	assert.Equal(t, rev+1, res.Revision, "revoke deletes its keys in one revision")
	assert.Equal(t, []LeaseID{1}, res.Revoked)
	require.Len(t, res.Events, 2)
	assert.Equal(t, b("a"), res.Events[0].KV.Key)
	assert.Equal(t, b("b"), res.Events[1].KV.Key)
	assert.Equal(t, []string{"c"}, rangeKeys(t, s, RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}}))
	assert.ErrorIs(t, s.Apply(Command{LeaseRevoke: &LeaseRevokeRequest{ID: 1}}).Err, ErrLeaseNotFound)

	// Expiry skips leases already gone and revokes the rest in one revision.
	grant(t, s, 3, 10)
	mustApply(t, s, Command{Put: &PutRequest{Key: b("e"), Lease: 3}})
	res = mustApply(t, s, Command{LeaseExpire: &LeaseExpireRequest{IDs: []LeaseID{1, 2, 3}}})
	assert.Equal(t, []LeaseID{2, 3}, res.Revoked)
	assert.Len(t, res.Events, 2)
	assert.Empty(t, s.Leases())
	// A revoke of a lease without keys takes no revision.
	grant(t, s, 4, 10)
	rev = s.Rev()
	assert.Equal(t, rev, mustApply(t, s, Command{LeaseRevoke: &LeaseRevokeRequest{ID: 4}}).Revision)
}

func TestLessor(t *testing.T) {
	s := New(Config{})
	l := NewLessor(Config{})
	sec := time.Second
	l.Observe(mustApply(t, s, Command{LeaseGrant: &LeaseGrantRequest{ID: 1, TTL: 10}}), 0)
	l.Observe(mustApply(t, s, Command{LeaseGrant: &LeaseGrantRequest{ID: 2, TTL: 20}}), 0)
	assert.Nil(t, l.Expired(100*sec), "only a primary lessor expires leases")
	_, err := l.Renew(1, 0)
	assert.ErrorIs(t, err, ErrNotLeader)

	l.Promote(5 * sec) // deadlines: 1 -> 15s, 2 -> 25s
	assert.Empty(t, l.Expired(14*sec))
	ttl, err := l.Renew(1, 14*sec) // 1 -> 24s
	require.NoError(t, err)
	assert.Equal(t, int64(10), ttl)
	rem, ok := l.Remaining(1, 20*sec)
	assert.True(t, ok)
	assert.Equal(t, int64(4), rem)
	assert.Equal(t, []LeaseID{1}, l.Expired(24*sec))
	assert.Equal(t, []LeaseID{1, 2}, l.Expired(25*sec))
	_, err = l.Renew(1, 24*sec)
	assert.ErrorIs(t, err, ErrLeaseNotFound, "an expired lease cannot be renewed")
	next, ok := l.NextDeadline()
	assert.True(t, ok)
	assert.Equal(t, 24*sec, next)

	res := mustApply(t, s, Command{LeaseExpire: &LeaseExpireRequest{IDs: l.Expired(25 * sec)}})
	l.Observe(res, 26*sec)
	assert.Empty(t, l.Expired(100*sec))

	// A restored node rebuilds its lessor from the store.
	l.Observe(mustApply(t, s, Command{LeaseGrant: &LeaseGrantRequest{ID: 3, TTL: 10}}), 0)
	r, err := Restore(s.Snapshot(), Config{})
	require.NoError(t, err)
	l2 := NewLessor(Config{})
	l2.Reset(r.Leases(), 50*sec)
	l2.Promote(50 * sec)
	assert.Empty(t, l2.Expired(59*sec))
	assert.Equal(t, []LeaseID{3}, l2.Expired(60*sec))
	l2.Demote()
	assert.False(t, l2.Primary())
}

func TestDedup(t *testing.T) {
	s := New(Config{})
	cmd := putCmd("a", "1")
	cmd.ClientID, cmd.Seq = 7, 1
	first := mustApply(t, s, cmd)
	again := s.Apply(cmd)
	assert.True(t, again.Duplicate)
	assert.Equal(t, first.Put, again.Put)
	assert.Equal(t, first.Revision, again.Revision)
	assert.Equal(t, int64(2), s.Rev(), "a retry is not executed")

	next := putCmd("a", "2")
	next.ClientID, next.Seq = 7, 2
	mustApply(t, s, next)
	assert.ErrorIs(t, s.Apply(cmd).Err, ErrStaleRequest)
	assert.Equal(t, "2", string(getKV(t, s, "a").Value))

	// Errors are recorded too, and survive a snapshot.
	bad := Command{ClientID: 8, Seq: 1, Put: &PutRequest{Key: b("x"), Lease: 42}}
	assert.ErrorIs(t, s.Apply(bad).Err, ErrLeaseNotFound)
	r, err := Restore(s.Snapshot(), Config{})
	require.NoError(t, err)
	grant(t, r, 42, 10)
	res := r.Apply(bad)
	assert.True(t, res.Duplicate)
	assert.ErrorIs(t, res.Err, ErrLeaseNotFound)
	res = r.Apply(next)
	assert.True(t, res.Duplicate)
	assert.Equal(t, int64(3), res.Put.Header.Revision)
}
