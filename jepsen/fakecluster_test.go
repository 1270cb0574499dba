package jepsen

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/orrery/orrery/host/etcdapi"
	"github.com/orrery/orrery/host/etcdapi/etcdapitest"
	"github.com/orrery/orrery/node/kv"
)

// fakeCluster is n etcd API servers on loopback over one in-process etcdapitest backend:
// every "node" serves the same linearizable store. Kill and Pause stop a node's server,
// Start and Resume serve it again on the same address. Every node also serves one member
// table (fakeMembers) through etcd's Cluster API, and the cluster is a Rejoiner, so the
// member nemesis runs against it over clientv3 as against a real cluster.
type fakeCluster struct {
	t     *testing.T
	b     *etcdapitest.Backend
	nodes []string
	addrs map[string]string
	logs  string

	mu      sync.Mutex
	srvs    map[string]*etcdapi.Server // running servers
	left    map[string]bool
	members fakeMembers
	wg      sync.WaitGroup
}

func newFakeCluster(t *testing.T, n int) *fakeCluster {
	c := &fakeCluster{t: t, addrs: map[string]string{}, srvs: map[string]*etcdapi.Server{}, left: map[string]bool{}, logs: t.TempDir()}
	c.b = etcdapitest.New(etcdapitest.Config{KV: kv.Config{MinLeaseTTL: 1}})
	c.members.next = 100
	for i := range n {
		name := fmt.Sprintf("n%d", i+1)
		c.members.add(c.PeerURL(name), false)
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		c.nodes = append(c.nodes, name)
		c.addrs[name] = lis.Addr().String()
		c.serve(name, lis)
		if err := os.WriteFile(c.LogPath(name), []byte("log of "+name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func (c *fakeCluster) serve(node string, lis net.Listener) {
	srv := etcdapi.NewServer(membersBackend{Backend: c.b, c: c}, etcdapi.Options{})
	c.srvs[node] = srv
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		_ = srv.Serve(lis)
	}()
}

func (c *fakeCluster) Nodes() []string             { return c.nodes }
func (c *fakeCluster) Endpoint(node string) string { return c.addrs[node] }
func (c *fakeCluster) Endpoints() []string {
	var out []string
	for _, n := range c.nodes {
		out = append(out, c.addrs[n])
	}
	return out
}

func (c *fakeCluster) Kill(node string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if srv, ok := c.srvs[node]; ok {
		srv.Stop()
		delete(c.srvs, node)
	}
	return nil
}

func (c *fakeCluster) Start(node string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.srvs[node]; ok || c.left[node] {
		return nil
	}
	return c.startLocked(node)
}

func (c *fakeCluster) startLocked(node string) error {
	var lis net.Listener
	var err error
	for range 50 { // the old socket may linger for a moment
		if lis, err = net.Listen("tcp", c.addrs[node]); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	c.serve(node, lis)
	return nil
}

func (c *fakeCluster) Leave(node string) error {
	c.mu.Lock()
	c.left[node] = true
	c.mu.Unlock()
	return c.Kill(node)
}

func (c *fakeCluster) Rejoin(node string) error {
	if err := c.Kill(node); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.left[node] = false
	return c.startLocked(node)
}

func (c *fakeCluster) Left(node string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.left[node]
}

func (c *fakeCluster) PeerURL(node string) string { return "http://" + node + ".peer:2390" }

// serving reports whether the node's server runs.
func (c *fakeCluster) serving(node string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.srvs[node]
	return ok
}

func (c *fakeCluster) Pause(node string) error  { return c.Kill(node) }
func (c *fakeCluster) Resume(node string) error { return c.Start(node) }

func (c *fakeCluster) Leader(context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.nodes {
		if _, ok := c.srvs[n]; ok {
			return n, nil
		}
	}
	return "", fmt.Errorf("no node is running")
}

func (c *fakeCluster) LogPath(node string) string { return filepath.Join(c.logs, node+".log") }

func (c *fakeCluster) Close() error {
	c.mu.Lock()
	for n, srv := range c.srvs {
		srv.Stop()
		delete(c.srvs, n)
	}
	c.mu.Unlock()
	c.wg.Wait()
	c.b.Close()
	return nil
}

// killNode is a nemesis for the fake cluster: it kills one random node; Stop restarts it.
type killNode struct {
	mu     sync.Mutex
	killed []string
}

func (k *killNode) Name() string { return "fake-kill" }

func (k *killNode) Start(_ context.Context, c Cluster, r *rand.Rand) (string, error) {
	n := c.Nodes()[r.Intn(len(c.Nodes()))]
	k.mu.Lock()
	k.killed = append(k.killed, n)
	k.mu.Unlock()
	return "kill " + n, c.Kill(n)
}

func (k *killNode) Stop(_ context.Context, c Cluster) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, n := range k.killed {
		if err := c.Start(n); err != nil {
			return err
		}
	}
	k.killed = nil
	return nil
}

// noop is a nemesis that does nothing, so schedules have a second kind to pick.
type noop struct{}

func (noop) Name() string                                               { return "fake-noop" }
func (noop) Start(context.Context, Cluster, *rand.Rand) (string, error) { return "nothing", nil }
func (noop) Stop(context.Context, Cluster) error                        { return nil }

// fakeMembers is the fake cluster's member table. removeFault makes MemberRemove time
// out: "lost" without removing, "late" after removing (the outcome a client cannot tell
// apart). voters records the number of voters after every change.
type fakeMembers struct {
	ms          []etcdapi.Member
	next        uint64
	removeFault string
	voters      []int
}

func (m *fakeMembers) add(peerURL string, learner bool) etcdapi.Member {
	m.next++
	x := etcdapi.Member{ID: m.next, PeerURLs: []string{peerURL}, IsLearner: learner}
	m.ms = append(m.ms, x)
	m.noteVoters()
	return x
}

func (m *fakeMembers) noteVoters() {
	n := 0
	for _, x := range m.ms {
		if !x.IsLearner {
			n++
		}
	}
	m.voters = append(m.voters, n)
}

func (m *fakeMembers) index(id uint64) int {
	return slices.IndexFunc(m.ms, func(x etcdapi.Member) bool { return x.ID == id })
}

func (m *fakeMembers) list() []etcdapi.Member { return slices.Clone(m.ms) }

// membersBackend serves the fake cluster's member table: etcdapi.Backend's Members and
// etcdapi.MemberChanger, with etcd's refusals.
type membersBackend struct {
	*etcdapitest.Backend
	c *fakeCluster
}

func (b membersBackend) Members(context.Context) ([]etcdapi.Member, error) {
	b.c.mu.Lock()
	defer b.c.mu.Unlock()
	return b.c.members.list(), nil
}

func (b membersBackend) MemberAdd(_ context.Context, peerURLs []string, learner bool) (etcdapi.Member, []etcdapi.Member, error) {
	b.c.mu.Lock()
	defer b.c.mu.Unlock()
	m := &b.c.members
	for _, x := range m.ms {
		if slices.Contains(x.PeerURLs, peerURLs[0]) {
			return etcdapi.Member{}, nil, etcdapi.ErrPeerURLExists
		}
	}
	x := m.add(peerURLs[0], learner)
	return x, m.list(), nil
}

func (b membersBackend) MemberRemove(_ context.Context, id uint64) ([]etcdapi.Member, error) {
	b.c.mu.Lock()
	defer b.c.mu.Unlock()
	m := &b.c.members
	i := m.index(id)
	if i < 0 {
		return nil, etcdapi.ErrMemberNotFound
	}
	if m.removeFault == "lost" {
		return nil, etcdapi.ErrTimeout
	}
	m.ms = slices.Delete(m.ms, i, i+1)
	m.noteVoters()
	if m.removeFault == "late" {
		return nil, etcdapi.ErrTimeout
	}
	return m.list(), nil
}

func (b membersBackend) MemberUpdate(context.Context, uint64, []string) ([]etcdapi.Member, error) {
	return nil, errors.New("fake cluster: member update is not implemented")
}

// MemberPromote refuses a learner whose node does not serve yet: it has not caught up.
func (b membersBackend) MemberPromote(_ context.Context, id uint64) ([]etcdapi.Member, error) {
	b.c.mu.Lock()
	defer b.c.mu.Unlock()
	m := &b.c.members
	i := m.index(id)
	switch {
	case i < 0:
		return nil, etcdapi.ErrMemberNotFound
	case !m.ms[i].IsLearner:
		return nil, etcdapi.ErrMemberNotLearner
	}
	for _, n := range b.c.nodes {
		if b.c.PeerURL(n) == m.ms[i].PeerURLs[0] && b.c.srvs[n] == nil {
			return nil, etcdapi.ErrLearnerNotReady
		}
	}
	m.ms[i].IsLearner = false
	m.noteVoters()
	return m.list(), nil
}
