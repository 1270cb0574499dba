package jepsen

import (
	"context"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/host/etcdapi"
)

func TestPickRemoval(t *testing.T) {
	for _, tc := range []struct {
		voters, size int
		ok           bool
	}{
		{voters: 3, size: 3, ok: true}, // 2 left: still a majority of 3
		{voters: 2, size: 3, ok: false},
		{voters: 5, size: 5, ok: true},
		{voters: 4, size: 5, ok: true},
		{voters: 3, size: 5, ok: false}, // 2 left would be no majority of 5
		{voters: 1, size: 1, ok: false},
	} {
		voters := []string{"n1", "n2", "n3", "n4", "n5"}[:tc.voters]
		picked := map[string]bool{}
		r := rand.New(rand.NewSource(1))
		for range 50 {
			node, ok := pickRemoval(voters, tc.size, r)
			require.Equal(t, tc.ok, ok, "%d voters of %d", tc.voters, tc.size)
			if ok {
				assert.Contains(t, voters, node)
				picked[node] = true
			}
		}
		if tc.ok {
			assert.Len(t, picked, tc.voters, "every voter gets picked some time (%d of %d)", tc.voters, tc.size)
		}
	}
}

// voterIDs maps the fake cluster's nodes that are voters to their member IDs.
func voterIDs(c *fakeCluster) map[string]uint64 {
	c.mu.Lock()
	ms := c.members.list()
	c.mu.Unlock()
	out := map[string]uint64{}
	for _, n := range c.nodes {
		for _, m := range ms {
			if m.PeerURLs[0] == c.PeerURL(n) && !m.IsLearner {
				out[n] = m.ID
			}
		}
	}
	return out
}

// TestMemberNemesisRemovesAndAddsBack: each Start removes one voter through the member
// API and keeps its node down (a kill nemesis's restart does not revive it); each Stop
// adds it back as a new member (a learner first, promoted once its node serves), so the
// table never has fewer than 2 of 3 voters and ends with all 3.
func TestMemberNemesisRemovesAndAddsBack(t *testing.T) {
	c := newFakeCluster(t, 3)
	defer c.Close()
	ctx := context.Background()
	c.members.voters = nil // count from the bootstrapped table on
	n := &memberNemesis{}
	require.True(t, Supported(n, c))
	r := rand.New(rand.NewSource(3))
	removed := map[string]bool{}
	for range 6 {
		before := voterIDs(c)
		require.Len(t, before, 3)
		desc, err := n.Start(ctx, c, r)
		require.NoError(t, err)
		during := voterIDs(c)
		require.Len(t, during, 2, desc)
		var node string
		for x := range before {
			if _, ok := during[x]; !ok {
				node = x
			}
		}
		assert.Contains(t, desc, "member remove "+node)
		removed[node] = true
		assert.True(t, c.Left(node))
		assert.False(t, c.serving(node))
		require.NoError(t, c.Start(node))
		assert.False(t, c.serving(node), "Start does not revive a removed member")

		require.NoError(t, n.Stop(ctx, c))
		after := voterIDs(c)
		require.Len(t, after, 3)
		assert.NotEqual(t, before[node], after[node], "%s is back under a new member ID", node)
		assert.False(t, c.Left(node))
		assert.True(t, c.serving(node))
		require.NoError(t, n.Stop(ctx, c), "Stop twice is a no-op")
	}
	assert.Len(t, removed, 3, "the random pick reaches every node")
	for _, v := range c.members.voters {
		assert.GreaterOrEqual(t, v, 2, "voters after each change: %v", c.members.voters)
	}
}

// TestMemberNemesisUncertainRemoval: a remove that times out may or may not have
// happened. Removed and timed out ("late"): a retry finds no such member, and the node
// is out. Not removed ("lost"): Start fails, and Stop finds the node still a voter and
// leaves it be; if the removal then happens after all, Stop adds the node back.
func TestMemberNemesisUncertainRemoval(t *testing.T) {
	c := newFakeCluster(t, 3)
	defer c.Close()
	ctx := context.Background()
	n := &memberNemesis{}
	r := rand.New(rand.NewSource(2))

	c.mu.Lock()
	c.members.removeFault = "late"
	c.mu.Unlock()
	desc, err := n.Start(ctx, c, r)
	require.NoError(t, err, desc)
	assert.Len(t, voterIDs(c), 2)
	require.NoError(t, n.Stop(ctx, c))
	assert.Len(t, voterIDs(c), 3)

	c.mu.Lock()
	c.members.removeFault = "lost"
	c.mu.Unlock()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_, err = n.Start(sctx, c, r)
	cancel()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "remove")
	ids := voterIDs(c)
	require.Len(t, ids, 3)
	require.Len(t, n.out, 1)
	node := n.out[0]
	for _, x := range c.nodes {
		assert.False(t, c.Left(x), "no node is marked out after a failed removal")
	}

	// The removal commits after Start gave up.
	c.mu.Lock()
	c.members.removeFault = ""
	i := c.members.index(ids[node])
	c.members.ms = append(c.members.ms[:i], c.members.ms[i+1:]...)
	c.mu.Unlock()
	require.NoError(t, n.Stop(ctx, c))
	after := voterIDs(c)
	require.Len(t, after, 3)
	assert.NotEqual(t, ids[node], after[node])
	assert.True(t, c.serving(node))
	assert.Empty(t, n.out)
}

// TestMemberNemesisKeepsAMajority: with one of three members already gone, Start
// removes nothing.
func TestMemberNemesisKeepsAMajority(t *testing.T) {
	c := newFakeCluster(t, 3)
	defer c.Close()
	c.mu.Lock()
	c.members.ms = c.members.ms[1:]
	c.mu.Unlock()
	desc, err := (&memberNemesis{}).Start(context.Background(), c, rand.New(rand.NewSource(1)))
	require.NoError(t, err)
	assert.Contains(t, desc, "keep all 2 voters")
	assert.Len(t, voterIDs(c), 2)
}

// The fake cluster's table answers as etcd does: the nemesis relies on these codes.
func TestFakeMembersRefuseAsEtcd(t *testing.T) {
	c := newFakeCluster(t, 1)
	defer c.Close()
	b := membersBackend{Backend: c.b, c: c}
	_, _, err := b.MemberAdd(context.Background(), []string{c.PeerURL("n1")}, true)
	assert.ErrorIs(t, err, etcdapi.ErrPeerURLExists)
	_, err = b.MemberRemove(context.Background(), 12345)
	assert.ErrorIs(t, err, etcdapi.ErrMemberNotFound)
}
