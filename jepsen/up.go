package jepsen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/orrery/orrery/jepsen/faultproxy"
	"github.com/orrery/orrery/jepsen/netns"
)

// Ports every node uses on its own address (each node has its own namespace and address, so
// fixed ports cannot collide).
const (
	ClientPort  = 2379 // etcd v3 gRPC API
	PeerPort    = 2380 // the member's real peer listener
	MetricsPort = 2381 // /metrics, /health and (orrery) /debug/orrery/faults
	ProxyPort   = 2390 // the fault proxy in front of PeerPort: the peer URL other members dial
)

// Hosts is what the nemeses need beyond Cluster; the clusters Up returns implement it.
type Hosts interface {
	Cluster
	// Addr is the node's address on the bridge.
	Addr(node string) string
	// Namespace is the node's network namespace.
	Namespace(node string) string
	// NFT runs an nftables script in the node's namespace, where the table TableName with
	// one base chain per nemesis kind already exists (see doc.go).
	NFT(ctx context.Context, node, script string) error
	// Proxy is the fault proxy in front of the node's peer listener.
	Proxy(node string) *faultproxy.Proxy
	// AdminURL is the node's fault-injection endpoint; "" when the database has none (etcd).
	AdminURL(node string) string
	// Generation counts the node's process starts, so a nemesis can tell whether the process
	// it faulted is still the one running.
	Generation(node string) int
	// Running reports whether the node's process is alive (it may be paused).
	Running(node string) bool
	// Etcd reports whether the cluster runs etcd rather than orrery.
	Etcd() bool
}

// Up creates the hosts, starts every node and waits until they agree on a leader. On error
// everything it made is removed again.
func Up(ctx context.Context, o Options) (Cluster, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := netns.Sweep(); err != nil {
		o.Logger.Warn("jepsen: sweeping stale namespaces of crashed runs", "err", err)
	}
	c := &nsCluster{o: o, log: o.Logger, procs: map[string]*proc{}, gen: map[string]int{}, ids: map[uint64]string{},
		incarnation: map[string]int{}, left: map[string]bool{}}
	if err := c.up(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("jepsen: up: %w", err), c.Close())
	}
	return c, nil
}

func (o Options) withDefaults() (Options, error) {
	if o.Nodes == 0 {
		o.Nodes = 5
	}
	if o.Nodes < 1 || o.Nodes > 200 {
		return o, fmt.Errorf("jepsen: %d nodes: want 1..200", o.Nodes)
	}
	if o.Binary == "" && o.EtcdBin == "" {
		return o, errors.New("jepsen: Options.Binary (or EtcdBin) is required")
	}
	for _, b := range []*string{&o.Binary, &o.EtcdBin} {
		if *b != "" {
			abs, err := filepath.Abs(*b)
			if err != nil {
				return o, err
			}
			*b = abs
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.LogLevel == "" {
		o.LogLevel = "info"
	}
	if o.HeartbeatMS == 0 {
		o.HeartbeatMS = 100
	}
	if o.ElectionMS == 0 {
		o.ElectionMS = 1000
	}
	return o, nil
}

func (c *nsCluster) up(ctx context.Context) error {
	if c.o.Dir == "" {
		d, err := os.MkdirTemp("", "orrery-jepsen-")
		if err != nil {
			return err
		}
		c.tmp, c.o.Dir = d, d
	}
	if err := os.MkdirAll(c.o.Dir, 0o755); err != nil {
		return err
	}
	n, err := netns.Create(ctx, c.o.Nodes)
	if err != nil {
		return err
	}
	c.net = n
	c.log.Info("jepsen: hosts up", "run", n.ID, "subnet", n.Subnet+".0/24", "harness", n.HostAddr)
	for i := range c.o.Nodes {
		c.names = append(c.names, fmt.Sprintf("n%d", i+1))
	}
	for i, node := range c.names {
		if err := c.NFT(ctx, node, baseTable); err != nil {
			return err
		}
		p, err := c.newProxy(i)
		if err != nil {
			return err
		}
		c.proxies = append(c.proxies, p)
	}
	for _, node := range c.names {
		if err := c.Start(node); err != nil {
			return err
		}
	}
	return c.waitLeader(ctx, 60*time.Second)
}

func (c *nsCluster) newProxy(i int) (*faultproxy.Proxy, error) {
	ns, addr := c.net.NodeNS(i), c.net.NodeAddr(i)
	ln, err := netns.Listen(ns, net.JoinHostPort(addr, strconv.Itoa(ProxyPort)))
	if err != nil {
		return nil, fmt.Errorf("proxy for n%d: %w", i+1, err)
	}
	target := net.JoinHostPort(addr, strconv.Itoa(PeerPort))
	dial := func(ctx context.Context) (net.Conn, error) { return netns.Dial(ctx, ns, target) }
	return faultproxy.New(ln, dial, c.o.EtcdBin == "", uint64(i+1)*7919, c.log.With("proxy", fmt.Sprintf("n%d", i+1))), nil
}

// waitLeader polls Leader until the nodes agree or the timeout passes.
func (c *nsCluster) waitLeader(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		l, err := c.Leader(ctx)
		if err == nil {
			c.log.Info("jepsen: cluster up", "leader", l)
			return nil
		}
		if c.allExited() {
			return fmt.Errorf("every node exited; logs in %s: %s", c.o.Dir, c.logTail(c.names[0]))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no leader after %v: %w; logs in %s", timeout, err, c.o.Dir)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (c *nsCluster) index(node string) int {
	for i, n := range c.names {
		if n == node {
			return i
		}
	}
	return -1
}

func (c *nsCluster) Nodes() []string { return append([]string(nil), c.names...) }

func (c *nsCluster) Endpoint(node string) string {
	return net.JoinHostPort(c.Addr(node), strconv.Itoa(ClientPort))
}

func (c *nsCluster) Endpoints() []string {
	var out []string
	for _, n := range c.names {
		out = append(out, c.Endpoint(n))
	}
	return out
}

func (c *nsCluster) Addr(node string) string {
	i := c.index(node)
	if i < 0 {
		return ""
	}
	return c.net.NodeAddr(i)
}

func (c *nsCluster) Namespace(node string) string {
	i := c.index(node)
	if i < 0 {
		return ""
	}
	return c.net.NodeNS(i)
}

func (c *nsCluster) NFT(ctx context.Context, node, script string) error {
	ns := c.Namespace(node)
	if ns == "" {
		return fmt.Errorf("jepsen: no node %q", node)
	}
	return netns.NFT(ctx, ns, script)
}

func (c *nsCluster) Proxy(node string) *faultproxy.Proxy {
	i := c.index(node)
	if i < 0 || i >= len(c.proxies) {
		return nil
	}
	return c.proxies[i]
}

func (c *nsCluster) AdminURL(node string) string {
	if c.o.EtcdBin != "" || c.index(node) < 0 {
		return ""
	}
	return "http://" + net.JoinHostPort(c.Addr(node), strconv.Itoa(MetricsPort)) + "/debug/orrery/faults"
}

func (c *nsCluster) Etcd() bool { return c.o.EtcdBin != "" }

func (c *nsCluster) LogPath(node string) string { return filepath.Join(c.o.Dir, node+".log") }

// dataDir is the node's data dir: Dir/nI for the member Up started, Dir/nI.K for the
// K-th member that joined again under the node's name (Rejoin), so the old member's data
// stays for inspection. The caller holds c.mu.
func (c *nsCluster) dataDir(node string) string {
	k := c.incarnation[node]
	if k == 0 {
		return filepath.Join(c.o.Dir, node)
	}
	return filepath.Join(c.o.Dir, fmt.Sprintf("%s.%d", node, k))
}

// clusterState is the node's --initial-cluster-state: new for the members Up bootstraps,
// existing for one that joined again. On a data dir that has data both just restart.
// The caller holds c.mu.
func (c *nsCluster) clusterState(node string) string {
	if c.incarnation[node] > 0 {
		return "existing"
	}
	return "new"
}

// initialCluster lists every node's peer URL: the proxy in front of its real listener.
func (c *nsCluster) initialCluster() string {
	var parts []string
	for _, n := range c.names {
		parts = append(parts, n+"="+c.peerURL(n))
	}
	return strings.Join(parts, ",")
}

// PeerURL is the node's advertised peer URL (its proxy), by which the member table
// names it.
func (c *nsCluster) PeerURL(node string) string { return c.peerURL(node) }

func (c *nsCluster) peerURL(node string) string {
	return "http://" + net.JoinHostPort(c.Addr(node), strconv.Itoa(ProxyPort))
}

func (c *nsCluster) url(node string, port int) string {
	return "http://" + net.JoinHostPort(c.Addr(node), strconv.Itoa(port))
}

// args are the node's command line: orrery's or etcd's flags, with the same meaning.
// The caller holds c.mu.
func (c *nsCluster) args(node string) (bin string, args []string) {
	common := []string{
		"--name", node,
		"--data-dir", c.dataDir(node),
		"--listen-peer-urls", c.url(node, PeerPort),
		"--initial-advertise-peer-urls", c.peerURL(node),
		"--listen-client-urls", c.url(node, ClientPort),
		"--advertise-client-urls", c.url(node, ClientPort),
		"--listen-metrics-urls", c.url(node, MetricsPort),
		"--initial-cluster", c.initialCluster(),
		"--initial-cluster-state", c.clusterState(node),
		"--heartbeat-interval", strconv.Itoa(c.o.HeartbeatMS),
		"--election-timeout", strconv.Itoa(c.o.ElectionMS),
	}
	if c.o.EtcdBin != "" {
		return c.o.EtcdBin, append(common, "--initial-cluster-token", "orrery-jepsen-"+c.net.ID, "--logger", "zap", "--log-level", "info")
	}
	args = append([]string{"node"}, common...)
	args = append(args, "--unsafe-fault-admin", "--log-level", c.o.LogLevel)
	for _, b := range c.o.Bugs {
		args = append(args, "--bug", b)
	}
	return c.o.Binary, args
}

// nsCluster is the Cluster Up builds: nodes in network namespaces on one bridge.
type nsCluster struct {
	o     Options
	log   *slog.Logger
	net   *netns.Net
	names []string
	tmp   string

	proxies []*faultproxy.Proxy

	mu    sync.Mutex
	procs map[string]*proc
	gen   map[string]int
	// incarnation counts the node's Rejoins; left holds the nodes between Leave and
	// Rejoin (see Rejoiner).
	incarnation map[string]int
	left        map[string]bool
	ids         map[uint64]string // member ID -> node, learned from Status
	clients     map[string]*statusClient
	closed      bool
}
