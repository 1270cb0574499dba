package jepsen

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/orrery/orrery/jepsen/netns"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("jepsen hosts need root (network namespaces, veth, nftables)")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make deps)", tool)
		}
	}
}

// buildOrrery builds the binary once per test binary run.
func buildOrrery(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "orrery")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/orrery/orrery/cmd/orrery").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// procsIn lists the PIDs still running in the run's namespaces.
func leftovers(t *testing.T, c *nsCluster, pids []int) []string {
	t.Helper()
	out := netns.Leftovers(c.net.ID)
	for _, pid := range pids {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			out = append(out, fmt.Sprintf("process %d", pid))
		}
	}
	if o, _ := exec.Command("ip", "link").Output(); strings.Contains(string(o), c.net.HostLink) {
		out = append(out, "ip link "+c.net.HostLink)
	}
	return out
}

func pidsOf(c *nsCluster) []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var pids []int
	for _, p := range c.procs {
		pids = append(pids, p.cmd.Process.Pid)
	}
	return pids
}

func newClient(t *testing.T, c Cluster) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	return cli
}

// writable retries a put and a linearizable get of it until both succeed.
func writable(t *testing.T, cli *clientv3.Client, key, val string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var err error
	for time.Since(start) < within {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err = cli.Put(ctx, key, val)
		if err == nil {
			var resp *clientv3.GetResponse
			resp, err = cli.Get(ctx, key)
			if err == nil && (len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != val) {
				err = fmt.Errorf("get %s: %v, want %s", key, resp.Kvs, val)
			}
		}
		cancel()
		if err == nil {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("cluster did not serve %s=%s within %v: %v", key, val, within, err)
	return 0
}

// TestHostsNemeses brings up 3 orrery nodes in namespaces, applies every nemesis once and
// checks the cluster serves writes after each heals, then that Close leaves nothing behind.
func TestHostsNemeses(t *testing.T) {
	needRoot(t)
	if testing.Short() {
		t.Skip("starts a real cluster")
	}
	bin := buildOrrery(t)
	ctx := context.Background()
	dir := t.TempDir()
	cl, err := Up(ctx, Options{Nodes: 3, Binary: bin, Dir: dir, HeartbeatMS: 50, ElectionMS: 500})
	require.NoError(t, err)
	c := cl.(*nsCluster)
	closed := false
	defer func() {
		if !closed {
			c.Close()
		}
	}()
	require.Equal(t, []string{"n1", "n2", "n3"}, c.Nodes())
	cli := newClient(t, c)
	writable(t, cli, "k", "v0", 10*time.Second)

	nems, err := Nemeses("all")
	require.NoError(t, err)
	require.Len(t, nems, len(NemesisNames()))
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	for i, n := range nems {
		require.True(t, Supported(n, c), n.Name())
		var before string
		if n.Name() == "partition-leader" {
			before, err = c.Leader(ctx)
			require.NoError(t, err)
		}
		desc, err := n.Start(ctx, c, r)
		require.NoError(t, err, "%s start", n.Name())
		if strings.HasPrefix(n.Name(), "partition") || n.Name() == "loss" {
			assert.Contains(t, ruleset(t, c), "drop", "%s: nftables rules in place", n.Name())
		}
		if n.Name() == "fsync" {
			// The next write fsyncs: the faulted member halts and its process exits.
			f := strings.Fields(desc)
			target := f[len(f)-1]
			writable(t, cli, "k", "fsync", 10*time.Second)
			waitFor(t, 10*time.Second, func() bool { return !c.Running(target) })
		} else if before != "" {
			// The majority elects another leader: the partition really cuts.
			waitFor(t, 10*time.Second, func() bool { l, err := c.Leader(ctx); return err == nil && l != before })
		} else {
			time.Sleep(700 * time.Millisecond)
		}
		require.NoError(t, n.Stop(ctx, c), "%s stop", n.Name())
		assert.NotContains(t, ruleset(t, c), "drop", "%s: healed", n.Name())
		took := writable(t, cli, "k", fmt.Sprintf("v%d", i+1), 20*time.Second)
		t.Logf("%-17s %-60s healed, write after %v", n.Name(), desc, took.Round(time.Millisecond))
	}
	// The proxies really carried the peer traffic, and link faults touched frames.
	var st struct{ units, dup, reord uint64 }
	for _, n := range c.Nodes() {
		s := c.Proxy(n).Stats()
		st.units += s.Units
		st.dup += s.Duplicated
		st.reord += s.Reordered
	}
	assert.NotZero(t, st.units, "peer frames through the proxies")
	t.Logf("proxies: %d frames, %d duplicated, %d reordered", st.units, st.dup, st.reord)

	pids := pidsOf(c)
	require.NoError(t, c.Close())
	closed = true
	assert.Empty(t, leftovers(t, c, pids))
	_, err = os.Stat(c.LogPath("n1"))
	assert.NoError(t, err, "logs stay in the caller's dir")
}

// TestHostsKillRestartKeepsData kills every node and restarts it on its data dir.
func TestHostsKillRestartKeepsData(t *testing.T) {
	needRoot(t)
	if testing.Short() {
		t.Skip("starts a real cluster")
	}
	bin := buildOrrery(t)
	ctx := context.Background()
	cl, err := Up(ctx, Options{Nodes: 3, Binary: bin, HeartbeatMS: 50, ElectionMS: 500})
	require.NoError(t, err)
	c := cl.(*nsCluster)
	tmp := c.tmp
	defer c.Close()
	cli := newClient(t, c)
	writable(t, cli, "durable", "yes", 10*time.Second)
	for _, n := range c.Nodes() {
		require.NoError(t, c.Pause(n))
		require.NoError(t, c.Kill(n)) // a paused process dies too
		require.False(t, c.Running(n))
		require.NoError(t, c.Kill(n), "kill is idempotent")
	}
	for _, n := range c.Nodes() {
		require.NoError(t, c.Start(n))
		require.NoError(t, c.Start(n), "start is a no-op on a running node")
		assert.Equal(t, 2, c.Generation(n))
	}
	lctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	require.NoError(t, c.waitLeader(lctx, 20*time.Second))
	gctx, cancel2 := context.WithTimeout(ctx, 10*time.Second)
	defer cancel2()
	resp, err := cli.Get(gctx, "durable")
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	assert.Equal(t, "yes", string(resp.Kvs[0].Value))
	pids := pidsOf(c)
	require.NoError(t, c.Close())
	assert.Empty(t, leftovers(t, c, pids))
	_, err = os.Stat(tmp)
	assert.True(t, os.IsNotExist(err), "temp dir %s removed", tmp)
}

// TestHostsUpFailsCleanly: a binary that exits at once makes Up fail fast and leave nothing.
// Other test processes (other packages run in parallel) create and remove namespaces of
// their own meanwhile, so only runs this process owns are compared.
func TestHostsUpFailsCleanly(t *testing.T) {
	needRoot(t)
	before := ownedNetns(t)
	_, err := Up(context.Background(), Options{Nodes: 2, Binary: "/bin/false", Dir: t.TempDir()})
	require.Error(t, err)
	t.Logf("Up: %v", err)
	assert.Equal(t, before, ownedNetns(t))
}

// ownedNetns lists the harness's namespaces whose run this test process created (the
// owner PID netns.Create records), and the owner files of such runs left behind.
func ownedNetns(t *testing.T) []string {
	t.Helper()
	pid := strconv.Itoa(os.Getpid())
	var own []string
	for _, name := range netnsList(t) {
		id, _, _ := strings.Cut(strings.TrimPrefix(name, netns.Prefix), "-")
		if b, err := os.ReadFile(filepath.Join(netns.StateDir, id+".pid")); err == nil && string(b) == pid {
			own = append(own, name)
		}
	}
	files, _ := filepath.Glob(filepath.Join(netns.StateDir, "*.pid"))
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && string(b) == pid {
			own = append(own, f)
		}
	}
	return own
}

// ruleset is the harness's nftables rules on every node.
func ruleset(t *testing.T, c *nsCluster) string {
	t.Helper()
	var b strings.Builder
	for _, n := range c.Nodes() {
		out, err := netns.Command(c.Namespace(n), "nft", "list", "table", "ip", TableName).CombinedOutput()
		require.NoError(t, err, "%s", out)
		b.Write(out)
	}
	return b.String()
}

func waitFor(t *testing.T, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func netnsList(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").Output()
	require.NoError(t, err)
	var own []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, netns.Prefix) {
			own = append(own, strings.Fields(l)[0])
		}
	}
	return own
}

// TestHostsEtcd runs the hosts and the partition and kill nemeses against etcd itself, to
// calibrate the harness. It needs ORRERY_ETCD_BIN (an etcd v3.7 binary); without it, it
// skips.
func TestHostsEtcd(t *testing.T) {
	needRoot(t)
	bin := os.Getenv("ORRERY_ETCD_BIN")
	if bin == "" {
		t.Skip("ORRERY_ETCD_BIN unset: set it to an etcd v3.7 binary to calibrate against etcd")
	}
	ctx := context.Background()
	cl, err := Up(ctx, Options{Nodes: 3, EtcdBin: bin, HeartbeatMS: 50, ElectionMS: 500})
	require.NoError(t, err)
	c := cl.(*nsCluster)
	defer c.Close()
	cli := newClient(t, c)
	writable(t, cli, "k", "v0", 10*time.Second)
	nems, err := Nemeses("all")
	require.NoError(t, err)
	r := rand.New(rand.NewSource(1))
	var ran, skipped []string
	for i, n := range nems {
		if !Supported(n, c) {
			_, err := n.Start(ctx, c, r)
			require.ErrorIs(t, err, ErrUnsupported, n.Name())
			skipped = append(skipped, n.Name())
			continue
		}
		desc, err := n.Start(ctx, c, r)
		require.NoError(t, err, n.Name())
		time.Sleep(500 * time.Millisecond)
		require.NoError(t, n.Stop(ctx, c), n.Name())
		took := writable(t, cli, "k", fmt.Sprintf("v%d", i+1), 20*time.Second)
		t.Logf("%-17s %-60s healed, write after %v", n.Name(), desc, took.Round(time.Millisecond))
		ran = append(ran, n.Name())
	}
	assert.ElementsMatch(t, []string{"clock", "disk", "fsync", "duplicate", "reorder"}, skipped)
	t.Logf("ran %v; skipped %v", ran, skipped)
	pids := pidsOf(c)
	require.NoError(t, c.Close())
	assert.Empty(t, leftovers(t, c, pids))
}
