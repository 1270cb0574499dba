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

// leftovers lists what of the run is still there: namespaces, root link, processes.
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
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
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
	seed := testSeed(t)
	dir := keptDir(t)
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
	writable(t, cli, "k", "v0", settle)

	nems, err := Nemeses("all")
	require.NoError(t, err)
	require.Len(t, nems, len(NemesisNames()))
	r := rand.New(rand.NewSource(seed))
	for i, n := range nems {
		require.True(t, Supported(n, c), n.Name())
		applyAndHeal(t, c, cli, n, r, i+1)
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

// applyAndHeal starts nemesis n, waits until its fault is observably in effect, stops it,
// checks that it is gone and that the cluster serves a write again (the i-th value).
func applyAndHeal(t *testing.T, c *nsCluster, cli *clientv3.Client, n Nemesis, r *rand.Rand, i int) {
	t.Helper()
	ctx := context.Background()
	before := takeProbe(c)
	start := time.Now()
	desc, err := n.Start(ctx, c, r)
	require.NoError(t, err, "%s start", n.Name())
	awaitInEffect(t, c, cli, n.Name(), desc, before)
	inEffect := time.Since(start)
	require.NoError(t, n.Stop(ctx, c), "%s stop", n.Name())
	awaitHealed(t, c, cli, n.Name())
	took := writable(t, cli, "k", fmt.Sprintf("v%d", i), settle)
	t.Logf("%-17s %-60s in effect after %v, healed, write after %v", n.Name(), desc,
		inEffect.Round(time.Millisecond), took.Round(time.Millisecond))
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
	writable(t, cli, "durable", "yes", settle)
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
	require.NoError(t, c.waitLeader(ctx, settle))
	var resp *clientv3.GetResponse
	waitFor(t, settle, func() bool {
		gctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		resp, err = cli.Get(gctx, "durable")
		return err == nil
	}, "a linearizable get after the restart")
	require.Len(t, resp.Kvs, 1)
	assert.Equal(t, "yes", string(resp.Kvs[0].Value))
	pids := pidsOf(c)
	require.NoError(t, c.Close())
	assert.Empty(t, leftovers(t, c, pids))
	_, err = os.Stat(tmp)
	assert.True(t, os.IsNotExist(err), "temp dir %s removed", tmp)
}

// TestHostsUpFailsCleanly: a binary that exits at once makes Up fail fast and leave nothing.
func TestHostsUpFailsCleanly(t *testing.T) {
	needRoot(t)
	before := netnsList(t)
	_, err := Up(context.Background(), Options{Nodes: 2, Binary: "/bin/false", Dir: t.TempDir()})
	require.Error(t, err)
	t.Logf("Up: %v", err)
	assert.Empty(t, newOwn(t, before), "namespaces left by the failed Up")
}

// newOwn lists the harness namespaces that are not in before and not the live run of
// another process: other test binaries on the machine may create and remove their own
// meanwhile.
func newOwn(t *testing.T, before []string) []string {
	t.Helper()
	old := map[string]bool{}
	for _, ns := range before {
		old[ns] = true
	}
	var out []string
	for _, ns := range netnsList(t) {
		id := strings.TrimPrefix(ns, netns.Prefix)
		id, _, _ = strings.Cut(id, "-")
		b, err := os.ReadFile(filepath.Join(netns.StateDir, id+".pid"))
		owner, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if old[ns] || err == nil && owner != os.Getpid() {
			continue
		}
		out = append(out, ns)
	}
	return out
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

// waitFor polls cond until it holds, or fails the test with what it waited for.
func waitFor(t *testing.T, within time.Duration, cond func() bool, what string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, fmt.Sprintf(what, args...))
		}
		time.Sleep(50 * time.Millisecond)
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
	seed := testSeed(t)
	cl, err := Up(ctx, Options{Nodes: 3, EtcdBin: bin, Dir: keptDir(t), HeartbeatMS: 50, ElectionMS: 500})
	require.NoError(t, err)
	c := cl.(*nsCluster)
	defer c.Close()
	cli := newClient(t, c)
	writable(t, cli, "k", "v0", settle)
	nems, err := Nemeses("all")
	require.NoError(t, err)
	r := rand.New(rand.NewSource(seed))
	var ran, skipped []string
	for i, n := range nems {
		if !Supported(n, c) {
			_, err := n.Start(ctx, c, r)
			require.ErrorIs(t, err, ErrUnsupported, n.Name())
			skipped = append(skipped, n.Name())
			continue
		}
		applyAndHeal(t, c, cli, n, r, i+1)
		ran = append(ran, n.Name())
	}
	assert.ElementsMatch(t, []string{"clock", "disk", "fsync", "duplicate", "reorder"}, skipped)
	t.Logf("ran %v; skipped %v", ran, skipped)
	pids := pidsOf(c)
	require.NoError(t, c.Close())
	assert.Empty(t, leftovers(t, c, pids))
}
