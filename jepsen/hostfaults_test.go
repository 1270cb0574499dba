package jepsen

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Deadlines of the real-host tests. They are upper bounds for a loaded 2-core machine, not
// performance assertions: a healthy cluster meets them in well under a second.
const (
	settle = 30 * time.Second // a fault shows, a leader is elected, a write goes through
)

// seedEnv replays the nemesis choices of a failed real-host run.
const seedEnv = "ORRERY_JEPSEN_SEED"

// testSeed is the seed in seedEnv, or a fresh one; either way it is logged with the command
// that replays it. The seed fixes the nemeses' choices, not the scheduling.
func testSeed(t *testing.T) int64 {
	t.Helper()
	seed := time.Now().UnixNano()
	if s := os.Getenv(seedEnv); s != "" {
		var err error
		seed, err = strconv.ParseInt(s, 10, 64)
		require.NoError(t, err, "%s", seedEnv)
	}
	t.Logf("seed %d (replay: %s=%d go test -run '^%s$' ./jepsen/)", seed, seedEnv, seed, t.Name())
	return seed
}

// keptDir is a cluster dir that is removed when the test passes and kept, with the tail of
// every node's log in the test output, when it fails.
func keptDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "orrery-hosts-")
	require.NoError(t, err)
	t.Cleanup(func() {
		if !t.Failed() {
			os.RemoveAll(dir)
			return
		}
		logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			t.Logf("tail of %s:\n%s", l, strings.Join(lines[max(0, len(lines)-30):], "\n"))
		}
		t.Logf("node logs kept in %s", dir)
	})
	return dir
}

// nodesIn lists the cluster's nodes that a nemesis description names, in c's order.
func nodesIn(c *nsCluster, desc string) []string {
	named := map[string]bool{}
	for _, f := range strings.FieldsFunc(desc, func(r rune) bool { return strings.ContainsRune(" []|,", r) }) {
		named[f] = true
	}
	var out []string
	for _, n := range c.Nodes() {
		if named[n] {
			out = append(out, n)
		}
	}
	return out
}

// isolated is the node a partition-leader description cuts off: "[n1] | [n2 n3]".
func isolated(t *testing.T, desc string) string {
	t.Helper()
	_, rest, ok := strings.Cut(desc, "[")
	node, _, ok2 := strings.Cut(rest, "]")
	require.True(t, ok && ok2, "partition-leader description %q", desc)
	return node
}

// procState is the state letter of /proc/PID/stat (R, S, T for stopped, ...), or "" when
// the node has no live process.
func procState(c *nsCluster, node string) string {
	p := c.live(node)
	if p == nil {
		return ""
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return ""
	}
	// pid (comm) state ...: comm may hold spaces, so the state follows the last ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

var counterRE = regexp.MustCompile(`counter packets (\d+)`)

// dropped sums the packet counters of the harness's drop rules on every node.
func dropped(t *testing.T, c *nsCluster) uint64 {
	t.Helper()
	var sum uint64
	for _, m := range counterRE.FindAllStringSubmatch(ruleset(t, c), -1) {
		n, err := strconv.ParseUint(m[1], 10, 64)
		require.NoError(t, err)
		sum += n
	}
	return sum
}

// probe is what the nemeses' effects are measured against: taken before a Start.
type probe struct {
	faults map[string]int // "fault injected" lines in each node's log
	link   linkStats
}

type linkStats struct{ delayed, duplicated, reordered uint64 }

func linkStatsOf(c *nsCluster) linkStats {
	var s linkStats
	for _, n := range c.Nodes() {
		st := c.Proxy(n).Stats()
		s.delayed += st.Delayed
		s.duplicated += st.Duplicated
		s.reordered += st.Reordered
	}
	return s
}

func faultLines(c *nsCluster, node string) int {
	b, _ := os.ReadFile(c.LogPath(node))
	return strings.Count(string(b), "fault injected")
}

func takeProbe(c *nsCluster) probe {
	p := probe{faults: map[string]int{}, link: linkStatsOf(c)}
	for _, n := range c.Nodes() {
		p.faults[n] = faultLines(c, n)
	}
	return p
}

// awaitInEffect waits until the fault nemesis name started (described by desc) is
// observably in effect, or fails the test after settle.
func awaitInEffect(t *testing.T, c *nsCluster, cli *clientv3.Client, name, desc string, before probe) {
	t.Helper()
	targets := nodesIn(c, desc)
	switch {
	case strings.HasPrefix(name, "partition") || name == "loss":
		require.Contains(t, ruleset(t, c), "drop", "%s: nftables rules in place", name)
		waitFor(t, settle, func() bool { return dropped(t, c) > 0 }, "%s: the drop rules dropped a packet", name)
		if name == "partition-leader" {
			// The majority has a leader other than the cut-off node: the partition really cuts.
			cut := isolated(t, desc)
			waitFor(t, settle, func() bool {
				l, err := c.Leader(context.Background())
				return err == nil && l != cut
			}, "%s: the majority elects a leader other than %s", name, cut)
		}
	case name == "kill":
		require.NotEmpty(t, targets, desc)
		for _, n := range targets {
			require.False(t, c.Running(n), "%s: %s still running", desc, n)
		}
	case name == "pause":
		require.NotEmpty(t, targets, desc)
		waitFor(t, settle, func() bool {
			for _, n := range targets {
				if procState(c, n) != "T" {
					return false
				}
			}
			return true
		}, "%s: every target stopped (state T)", desc)
	case name == "clock" || name == "disk":
		require.NotEmpty(t, targets, desc)
		for _, n := range targets {
			waitFor(t, settle, func() bool { return faultLines(c, n) > before.faults[n] }, "%s: %s logged the fault", desc, n)
		}
	case name == "fsync":
		// The next write fsyncs: the faulted member halts and its process exits.
		require.Len(t, targets, 1, desc)
		writable(t, cli, "k", "fsync", settle)
		waitFor(t, settle, func() bool { return !c.Running(targets[0]) }, "%s: the process exits", desc)
	case name == "member":
		require.Len(t, targets, 1, desc)
		require.True(t, c.Left(targets[0]), "%s: %s marked out", desc, targets[0])
		require.False(t, c.Running(targets[0]), "%s: %s still running", desc, targets[0])
		require.NotContains(t, memberURLs(t, cli), c.PeerURL(targets[0]), "%s: still in the member table", desc)
	case name == "delay":
		waitFor(t, settle, func() bool { return linkStatsOf(c).delayed > before.link.delayed }, "%s: a frame delayed", desc)
	case name == "duplicate":
		waitFor(t, settle, func() bool { return linkStatsOf(c).duplicated > before.link.duplicated }, "%s: a frame duplicated", desc)
	case name == "reorder":
		waitFor(t, settle, func() bool { return linkStatsOf(c).reordered > before.link.reordered }, "%s: a frame reordered", desc)
	default:
		t.Fatalf("no observable effect known for nemesis %s", name)
	}
}

// awaitHealed checks that the fault nemesis name is gone after its Stop.
func awaitHealed(t *testing.T, c *nsCluster, cli *clientv3.Client, name string) {
	t.Helper()
	switch name {
	case "member":
		for _, n := range c.Nodes() {
			require.False(t, c.Left(n), "%s: %s back", name, n)
			require.True(t, c.Running(n), "%s: %s running", name, n)
		}
		urls := memberURLs(t, cli)
		require.Len(t, urls, len(c.Nodes()), "%s: every node a voter again: %v", name, urls)
		for _, n := range c.Nodes() {
			require.Contains(t, urls, c.PeerURL(n), "%s: %s a voter again", name, n)
		}
	case "kill", "fsync":
		for _, n := range c.Nodes() {
			require.True(t, c.Running(n), "%s: %s restarted", name, n)
		}
	case "pause":
		waitFor(t, settle, func() bool {
			for _, n := range c.Nodes() {
				if procState(c, n) == "T" {
					return false
				}
			}
			return true
		}, "%s: every node resumed", name)
	case "delay", "duplicate", "reorder":
		for _, n := range c.Nodes() {
			require.True(t, c.Proxy(n).Faults().Zero(), "%s: proxy of %s cleared", name, n)
		}
	}
	require.NotContains(t, ruleset(t, c), "drop", "%s: healed", name)
}

// memberURLs lists the peer URLs of the voting members.
func memberURLs(t *testing.T, cli *clientv3.Client) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), settle)
	defer cancel()
	resp, err := cli.MemberList(ctx)
	require.NoError(t, err, "member list")
	var out []string
	for _, m := range resp.Members {
		if !m.IsLearner {
			out = append(out, m.PeerURLs...)
		}
	}
	return out
}
