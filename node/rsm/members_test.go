package rsm

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/raft"
)

// tcluster drives servers in memory: messages are delivered in order, syncs complete at
// once, and time passes only by tick.
type tcluster struct {
	t       *testing.T
	srvs    map[uint64]*Server
	disks   map[uint64]map[string][][]byte
	queue   []tinput
	halted  map[uint64]string
	replies map[uint64]c.Message // client -> last answer
	obs     map[uint64][]c.Observe
	cut     map[uint64]bool // servers that neither send nor receive
}

type tinput struct {
	to uint64
	in c.Input
}

func members3() []Member {
	var ms []Member
	for id := uint64(1); id <= 3; id++ {
		ms = append(ms, Member{ID: id, Name: fmt.Sprintf("n%d", id), PeerURLs: []string{fmt.Sprintf("http://10.0.0.%d:2380", id)}})
	}
	return ms
}

func newTCluster(t *testing.T, members []Member) *tcluster {
	tc := &tcluster{t: t, srvs: map[uint64]*Server{}, disks: map[uint64]map[string][][]byte{}, halted: map[uint64]string{},
		replies: map[uint64]c.Message{}, obs: map[uint64][]c.Observe{}, cut: map[uint64]bool{}}
	var peers []c.NodeID
	for _, m := range members {
		peers = append(peers, c.NodeID(m.ID))
	}
	for _, m := range members {
		tc.start(Config{ID: c.NodeID(m.ID), Peers: peers, Members: members, SnapshotEvery: 8, Keep: 2})
	}
	return tc
}

func (tc *tcluster) start(cfg Config) {
	cfg.NewApp = func() Application { return &testApp{} }
	id := uint64(cfg.ID)
	if tc.disks[id] == nil {
		tc.disks[id] = map[string][][]byte{}
	}
	files := map[string][][]byte{}
	for f, recs := range tc.disks[id] {
		files[f] = slices.Clone(recs)
	}
	tc.srvs[id] = NewServer(cfg, rand.New(rand.NewPCG(id, 9)))
	delete(tc.halted, id)
	tc.handle(id, c.Start{Disk: c.Recovery{Files: files}})
}

func (tc *tcluster) handle(id uint64, in c.Input) {
	if _, down := tc.halted[id]; down {
		return
	}
	for _, e := range tc.srvs[id].Handle(0, in) {
		switch e := e.(type) {
		case c.Send:
			to := uint64(e.To)
			if tc.srvs[to] == nil {
				tc.replies[to] = e.Msg
			} else if !tc.cut[id] && !tc.cut[to] {
				tc.queue = append(tc.queue, tinput{to, c.Receive{From: c.NodeID(id), Msg: e.Msg}})
			}
		case c.Append:
			tc.disks[id][e.File] = append(tc.disks[id][e.File], e.Record)
		case c.Remove:
			delete(tc.disks[id], e.File)
		case c.Sync:
			tc.queue = append(tc.queue, tinput{id, c.Synced{ID: e.ID}})
		case c.Halt:
			tc.halted[id] = e.Reason
		case c.Observe:
			tc.obs[id] = append(tc.obs[id], e)
		case c.Notice:
			tc.obs[id] = append(tc.obs[id], c.Observe{Kind: "notice", Value: e.String()})
		case c.SetTimer:
			if e.ID == timerRemoved { // the removal grace passes at once here
				tc.queue = append(tc.queue, tinput{id, c.TimerFired{ID: e.ID}})
			}
		}
	}
}

// run ticks every server n times, delivering everything in between.
func (tc *tcluster) run(n int) {
	for range n {
		for _, id := range slices.Sorted(mapKeys(tc.srvs)) {
			tc.handle(id, c.TimerFired{ID: timerTick})
		}
		for len(tc.queue) > 0 {
			in := tc.queue[0]
			tc.queue = tc.queue[1:]
			tc.handle(in.to, in.in)
		}
	}
}

func mapKeys(m map[uint64]*Server) func(func(uint64) bool) {
	return func(yield func(uint64) bool) {
		//det:unordered sorted by the caller
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func (tc *tcluster) leader() uint64 {
	tc.t.Helper()
	for range 100 {
		tc.run(1)
		for id, s := range tc.srvs {
			if _, down := tc.halted[id]; !down && s.lead == id {
				return id
			}
		}
	}
	tc.t.Fatal("no leader")
	return 0
}

// request sends req to server id as client and runs until it is answered.
func (tc *tcluster) request(id, client uint64, req Request) c.Message {
	tc.t.Helper()
	req.Client, req.Seq = client, 1
	delete(tc.replies, client)
	tc.queue = append(tc.queue, tinput{id, c.Receive{From: c.NodeID(client), Msg: req}})
	for range 100 {
		tc.run(1)
		if m, ok := tc.replies[client]; ok {
			return m
		}
	}
	tc.t.Fatalf("no answer to %v", req)
	return nil
}

func (tc *tcluster) conf(id, client uint64, cc raft.ConfChange, m Member) ([]Member, error) {
	tc.t.Helper()
	rep := tc.request(id, client, ConfChangeRequest(cc, m))
	r, ok := rep.(Reply)
	require.True(tc.t, ok, "%v", rep)
	return DecodeConfChangeResult(r.Result)
}

func (tc *tcluster) write(id, client uint64, v string) {
	tc.t.Helper()
	_, ok := tc.request(id, client, Request{Payload: []byte(v)}).(Reply)
	require.True(tc.t, ok)
}

// TestConfChangeJoinPromoteRemove: a server started with no configuration joins as a
// learner, learns the whole member table from its conf-change entry, catches up, is
// promoted; invalid changes are refused with definite errors; a leader that applies its own
// removal halts and the others go on.
func TestConfChangeJoinPromoteRemove(t *testing.T) {
	tc := newTCluster(t, members3())
	lead := tc.leader()
	for i := range 20 {
		tc.write(lead, 100+uint64(i), fmt.Sprintf("w%d", i))
	}
	tc.start(Config{ID: 4}) // joining: no peers, no members
	n4 := Member{Name: "n4", PeerURLs: []string{"http://10.0.0.4:2380"}}
	ms, err := tc.conf(lead, 200, raft.ConfChange{Type: raft.ConfChangeAddLearner, NodeID: 4}, n4)
	require.NoError(t, err)
	require.Len(t, ms, 4)
	assert.Equal(t, Member{ID: 4, Name: "n4", PeerURLs: n4.PeerURLs, Learner: true}, ms[3])
	tc.run(20)
	assert.Equal(t, ms, tc.srvs[4].Members(), "the joiner learned the table")
	assert.Equal(t, tc.srvs[lead].App().Snapshot(), tc.srvs[4].App().Snapshot(), "the joiner caught up")
	assert.Contains(t, tc.obs[4], c.Observe{Kind: "notice", Value: MembersChanged{Index: 22, Members: ms}.String()})

	rep, ok := tc.request(lead, 199, MembersRequest()).(Reply)
	require.True(t, ok)
	listed, err := DecodeConfChangeResult(rep.Result)
	require.NoError(t, err)
	assert.Equal(t, ms, listed, "MembersRequest reads the table")

	follower := uint64(1 + lead%3)
	_, ok = tc.request(follower, 201, ConfChangeRequest(raft.ConfChange{Type: raft.ConfChangeRemove, NodeID: 4}, Member{})).(Redirect)
	assert.True(t, ok, "a follower redirects a conf change")
	for _, bad := range []struct {
		cc   raft.ConfChange
		m    Member
		want error
	}{
		{raft.ConfChange{Type: raft.ConfChangeAddLearner, NodeID: 5}, Member{PeerURLs: []string{"http://10.0.0.1:2380"}}, ErrPeerURLExists},
		{raft.ConfChange{Type: raft.ConfChangeAddLearner, NodeID: 4}, Member{}, ErrMemberExists},
		{raft.ConfChange{Type: raft.ConfChangeRemove, NodeID: 9}, Member{}, ErrMemberNotFound},
		{raft.ConfChange{Type: raft.ConfChangeAddVoter, NodeID: lead}, Member{}, ErrMemberNotLearner},
	} {
		_, err := tc.conf(lead, 202, bad.cc, bad.m)
		assert.ErrorIs(t, err, bad.want, "%+v", bad.cc)
	}

	ms, err = tc.conf(lead, 203, raft.ConfChange{Type: raft.ConfChangeAddVoter, NodeID: 4}, Member{})
	require.NoError(t, err)
	assert.False(t, ms[3].Learner, "promoted")
	st, _ := tc.srvs[lead].Status()
	assert.Equal(t, []uint64{1, 2, 3, 4}, st.Config.Voters)

	ms, err = tc.conf(lead, 204, raft.ConfChange{Type: raft.ConfChangeRemove, NodeID: lead}, Member{})
	require.NoError(t, err)
	assert.Len(t, ms, 3)
	assert.Equal(t, ReasonRemoved, tc.halted[lead])
	next := tc.leader()
	assert.NotEqual(t, lead, next)
	tc.write(next, 300, "after")
	tc.run(10)
	assert.Equal(t, tc.srvs[next].App().Snapshot(), tc.srvs[4].App().Snapshot())
	assert.Equal(t, ms, tc.srvs[4].Members())
}

// TestMemberTableInSnapshot: the table is part of the snapshot, so a restarted server (here
// the joiner, which has no configured members) and one the leader sends a snapshot to both
// know it; a server with no table writes snapshots as before (sessions + app).
func TestMemberTableInSnapshot(t *testing.T) {
	tc := newTCluster(t, members3())
	lead := tc.leader()
	tc.start(Config{ID: 4, SnapshotEvery: 8, Keep: 2})
	_, err := tc.conf(lead, 200, raft.ConfChange{Type: raft.ConfChangeAddLearner, NodeID: 4}, Member{Name: "n4", PeerURLs: []string{"u4"}})
	require.NoError(t, err)
	for i := range 30 {
		tc.write(lead, 100+uint64(i), fmt.Sprintf("w%d", i))
	}
	tc.run(10)
	want := tc.srvs[lead].Members()
	require.Len(t, want, 4)
	snap, _ := tc.srvs[4].ms.Snapshot()
	require.Greater(t, snap.Metadata.Index, uint64(8), "the joiner took a snapshot after its addition")
	ms, _, err := splitTable(snap.Data)
	require.NoError(t, err)
	assert.Equal(t, want, ms)
	tc.start(Config{ID: 4, SnapshotEvery: 8, Keep: 2}) // restart from its disk
	assert.Equal(t, want, tc.srvs[4].Members())

	// A follower cut off while the log is compacted gets the leader's snapshot.
	follower := uint64(1 + lead%3)
	tc.cut[follower] = true
	for i := range 30 {
		tc.write(lead, 400+uint64(i), fmt.Sprintf("x%d", i))
	}
	tc.srvs[follower].members = nil
	tc.cut[follower] = false
	tc.run(30)
	assert.Equal(t, want, tc.srvs[follower].Members())
	assert.Equal(t, tc.srvs[lead].App().Snapshot(), tc.srvs[follower].App().Snapshot())

	plain := NewServer(Config{ID: 1, Peers: []c.NodeID{1}, NewApp: func() Application { return &testApp{log: []string{"a"}} }}, rand.New(rand.NewPCG(1, 1)))
	plain.Handle(0, c.Start{})
	assert.Equal(t, append(sessions{}.encode(), "a"...), plain.snapshotData(), "no table, no new bytes")
}

// TestBootstrapRecordsMembers: a restored member starts with the table it was given.
func TestBootstrapRecordsMembers(t *testing.T) {
	recs := BootstrapRecords([]byte("a,b"), []c.NodeID{1, 2, 3}, members3())
	s := NewServer(Config{ID: 2, NewApp: func() Application { return &testApp{} }}, rand.New(rand.NewPCG(1, 2)))
	s.Handle(0, c.Start{Disk: c.Recovery{Files: map[string][][]byte{BootstrapFile: recs}}})
	assert.Equal(t, members3(), s.Members())
	assert.Equal(t, []byte("a,b"), s.App().Snapshot())
}

func TestConfChangeResultAndRequestEncoding(t *testing.T) {
	ms := members3()
	got, err := DecodeConfChangeResult(encodeConfResult(ms, nil))
	require.NoError(t, err)
	assert.Equal(t, ms, got)
	for _, e := range confErrors {
		_, err := DecodeConfChangeResult(encodeConfResult(nil, fmt.Errorf("%w: detail", e)))
		assert.ErrorIs(t, err, e)
		assert.Contains(t, err.Error(), "detail")
	}
	req := ConfChangeRequest(raft.ConfChange{Type: raft.ConfChangeAddLearner, NodeID: 1 << 62}, ms[1])
	b, err := EncodeMessage(req)
	require.NoError(t, err)
	m, err := DecodeMessage(b)
	require.NoError(t, err)
	require.Equal(t, req, m)
	cc, mem, err := decodeConfRequest(req.Payload)
	require.NoError(t, err)
	assert.Equal(t, raft.ConfChange{Type: raft.ConfChangeAddLearner, NodeID: 1 << 62}, cc)
	assert.Equal(t, ms[1], mem)
	assert.True(t, learnerReady(90, 100))
	assert.False(t, learnerReady(89, 100))
}
