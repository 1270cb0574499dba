package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// procCluster is a cluster of `orrery node` processes on loopback. Members keep their
// ports and data dirs across kills and restarts.
type procCluster struct {
	t       *testing.T
	bin     string
	names   []string
	clients []string
	peers   []string
	dirs    []string
	logs    []string // each member's stderr, appended to across restarts

	mu    sync.Mutex
	procs []*exec.Cmd
	exits []chan struct{} // closed when procs[i] has been waited for
}

func newProcCluster(t *testing.T, n int) *procCluster {
	t.Helper()
	pc := &procCluster{t: t, bin: orreryBin(t), procs: make([]*exec.Cmd, n), exits: make([]chan struct{}, n)}
	addrs := freeAddrs(t, 2*n)
	root := t.TempDir()
	for i := range n {
		pc.names = append(pc.names, fmt.Sprintf("n%d", i+1))
		pc.clients = append(pc.clients, addrs[2*i])
		pc.peers = append(pc.peers, addrs[2*i+1])
		pc.dirs = append(pc.dirs, filepath.Join(root, pc.names[i]))
		pc.logs = append(pc.logs, filepath.Join(root, pc.names[i]+".log"))
	}
	// Registered before any process starts: every process dies with the test, pass or fail.
	t.Cleanup(func() {
		for i := range pc.procs {
			pc.kill(i)
		}
		if t.Failed() {
			for i, l := range pc.logs {
				b, _ := os.ReadFile(l)
				t.Logf("stderr of %s:\n%s", pc.names[i], b)
			}
		}
	})
	for i := range n {
		pc.start(i)
	}
	return pc
}

func (pc *procCluster) initialCluster() string {
	var parts []string
	for i, name := range pc.names {
		parts = append(parts, name+"=http://"+pc.peers[i])
	}
	return strings.Join(parts, ",")
}

// start starts member i's process; it must not be running.
func (pc *procCluster) start(i int) {
	pc.t.Helper()
	log, err := os.OpenFile(pc.logs[i], os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	require.NoError(pc.t, err)
	defer log.Close()
	cmd := exec.Command(pc.bin, "node",
		"--name", pc.names[i], "--data-dir", pc.dirs[i],
		"--listen-peer-urls", "http://"+pc.peers[i], "--listen-client-urls", "http://"+pc.clients[i],
		"--initial-cluster", pc.initialCluster(),
		"--heartbeat-interval", "20", "--election-timeout", "200", "--snapshot-count", "200",
		"--log-level", "warn")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = dieWithParent()
	require.NoError(pc.t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	pc.mu.Lock()
	pc.procs[i], pc.exits[i] = cmd, exited
	pc.mu.Unlock()
}

// kill sends SIGKILL to member i and waits for it to die; a no-op if it is not running.
func (pc *procCluster) kill(i int) {
	pc.mu.Lock()
	cmd, exited := pc.procs[i], pc.exits[i]
	pc.procs[i], pc.exits[i] = nil, nil
	pc.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

// waitServing waits until member i answers Status with a leader known.
func (pc *procCluster) waitServing(ctx context.Context, cli *clientv3.Client, i int) {
	pc.t.Helper()
	require.Eventually(pc.t, func() bool {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		st, err := cli.Status(sctx, pc.clients[i])
		return err == nil && st.Leader != 0
	}, settle, 20*time.Millisecond, "%s never served with a leader", pc.names[i])
}

// leader asks every running member for its status and returns the index of the member
// that all running members name as leader.
func (pc *procCluster) leader(ctx context.Context, cli *clientv3.Client) int {
	pc.t.Helper()
	lead := -1
	require.Eventually(pc.t, func() bool {
		var id uint64
		for i := range pc.clients {
			pc.mu.Lock()
			running := pc.procs[i] != nil
			pc.mu.Unlock()
			if !running {
				continue
			}
			sctx, cancel := context.WithTimeout(ctx, time.Second)
			st, err := cli.Status(sctx, pc.clients[i])
			cancel()
			if err != nil || st.Leader == 0 || id != 0 && st.Leader != id {
				return false
			}
			id = st.Leader
			if st.Leader == st.Header.MemberId {
				lead = i
			}
		}
		return id != 0 && lead >= 0 && uint64(lead+1) == id
	}, settle, 20*time.Millisecond, "no agreed leader")
	return lead
}
