package jepsen

import (
	"context"
	"fmt"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/orrery/orrery/host/etcdapi"
	"github.com/orrery/orrery/host/etcdapi/etcdapitest"
	"github.com/orrery/orrery/node/kv"
)

// fakeCluster is n etcd API servers on loopback over one in-process etcdapitest backend:
// every "node" serves the same linearizable store. Kill and Pause stop a node's server,
// Start and Resume serve it again on the same address.
type fakeCluster struct {
	t     *testing.T
	b     *etcdapitest.Backend
	nodes []string
	addrs map[string]string
	logs  string

	mu   sync.Mutex
	srvs map[string]*etcdapi.Server // running servers
	wg   sync.WaitGroup
}

func newFakeCluster(t *testing.T, n int) *fakeCluster {
	c := &fakeCluster{t: t, addrs: map[string]string{}, srvs: map[string]*etcdapi.Server{}, logs: t.TempDir()}
	c.b = etcdapitest.New(etcdapitest.Config{KV: kv.Config{MinLeaseTTL: 1}})
	for i := range n {
		name := fmt.Sprintf("n%d", i+1)
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
	srv := etcdapi.NewServer(c.b, etcdapi.Options{})
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
	if _, ok := c.srvs[node]; ok {
		return nil
	}
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
