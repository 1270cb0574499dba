package e2e

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/orrery/orrery/host/daemon"
	"github.com/orrery/orrery/host/member"
	"github.com/orrery/orrery/node/kv"
)

// Short raft timing keeps elections and failovers in the tens of milliseconds.
const (
	testTick      = 10 * time.Millisecond
	electionTicks = 10
)

// settle bounds a wait for the cluster to get somewhere (a leader, a member catching up,
// a log line) and testTimeout a whole test's requests. They are upper bounds for a loaded
// 2-core machine, not performance assertions: a healthy cluster takes milliseconds.
const (
	settle      = 30 * time.Second
	testTimeout = 60 * time.Second
)

// freeAddrs reserves n loopback ports. They are released before the members bind them,
// so another process could in principle take one in between; on a test machine that is
// rare enough, and the failure would be a clear "address in use".
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		ls = append(ls, l)
		out = append(out, l.Addr().String())
	}
	for _, l := range ls {
		require.NoError(t, l.Close())
	}
	return out
}

// logBuffer collects a member's log lines, for tests that check what was logged.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// cluster is an in-process cluster of daemons on loopback.
type cluster struct {
	t       *testing.T
	peers   []member.Peer
	clients []string // client address of member i
	dirs    []string
	ds      []*daemon.Daemon
	logs    []*logBuffer
	store   kv.Config
	ticks   int // election timeout in ticks

	peerAddrs []string
}

type clusterOption func(*cluster)

func withStore(s kv.Config) clusterOption { return func(c *cluster) { c.store = s } }

// withElectionTicks lengthens the election timeout, for tests that assert that nothing
// disturbed the leader: a loaded CI machine must not fake a disturbance.
func withElectionTicks(n int) clusterOption { return func(c *cluster) { c.ticks = n } }

// withLayout runs the members on given addresses and existing data dirs (a restore).
func withLayout(clients, peers, dirs []string) clusterOption {
	return func(c *cluster) { c.clients, c.dirs = clients, dirs; c.peerAddrs = peers }
}

func newCluster(t *testing.T, n int, opts ...clusterOption) *cluster {
	t.Helper()
	cl := &cluster{t: t, ticks: electionTicks}
	for _, o := range opts {
		o(cl)
	}
	if cl.clients == nil {
		addrs := freeAddrs(t, 2*n)
		for i := range n {
			cl.clients = append(cl.clients, addrs[2*i])
			cl.peerAddrs = append(cl.peerAddrs, addrs[2*i+1])
			cl.dirs = append(cl.dirs, t.TempDir())
		}
	}
	for i := range n {
		cl.peers = append(cl.peers, member.Peer{ID: uint64(i + 1), Name: fmt.Sprintf("n%d", i+1), Addr: cl.peerAddrs[i]})
		cl.logs = append(cl.logs, &logBuffer{})
	}
	cl.ds = make([]*daemon.Daemon, n)
	t.Cleanup(func() {
		for i := range cl.ds {
			cl.stop(i)
		}
		if t.Failed() {
			for i, l := range cl.logs {
				t.Logf("log of member %d:\n%s", i+1, l.String())
			}
		}
	})
	for i := range n {
		require.NoError(t, cl.start(i))
	}
	return cl
}

func (cl *cluster) options(i int) daemon.Options {
	return daemon.Options{
		Member: member.Config{
			ID: uint64(i + 1), Peers: cl.peers, DataDir: cl.dirs[i],
			ClientURLs: []string{"http://" + cl.clients[i]},
			Tick:       testTick, ElectionTicks: cl.ticks, SnapshotEvery: 100, Store: cl.store,
		},
		ListenClient: []string{cl.clients[i]},
		Logger:       slog.New(slog.NewTextHandler(cl.logs[i], &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
}

// start (re)starts member i on its data dir.
func (cl *cluster) start(i int) error {
	d, err := daemon.Start(cl.options(i))
	if err != nil {
		return err
	}
	cl.ds[i] = d
	return nil
}

func (cl *cluster) stop(i int) {
	if cl.ds[i] != nil {
		cl.ds[i].Stop()
		cl.ds[i] = nil
	}
}

// leader waits for a leader that every running member agrees on and returns its index.
func (cl *cluster) leader() int {
	cl.t.Helper()
	lead := -1
	require.Eventually(cl.t, func() bool {
		lead = -1
		var id uint64
		for i, d := range cl.ds {
			if d == nil {
				continue
			}
			st := d.M.Status()
			if st.Leader == 0 || id != 0 && st.Leader != id {
				return false
			}
			id = st.Leader
			if st.IsLeader {
				lead = i
			}
		}
		return lead >= 0
	}, settle, 5*time.Millisecond, "no agreed leader")
	return lead
}

// endpoints are the client addresses of the given members (all if none given).
func (cl *cluster) endpoints(members ...int) []string {
	if len(members) == 0 {
		return cl.clients
	}
	var out []string
	for _, i := range members {
		out = append(out, cl.clients[i])
	}
	return out
}

// client connects the etcd client to the given endpoints; closed at the end of the test.
func newClient(t *testing.T, endpoints []string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	return cli
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
