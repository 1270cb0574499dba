package netns

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip (iproute2) not installed (make deps)")
	}
}

// TestCreateReachClose: the harness reaches a node's address from the root namespace, the
// node's listener lives in its namespace, and Close leaves nothing.
func TestCreateReachClose(t *testing.T) {
	needRoot(t)
	n, err := Create(context.Background(), 2)
	require.NoError(t, err)
	defer n.Close()
	assert.LessOrEqual(t, len(n.HostLink), 15, "IFNAMSIZ")
	ln, err := Listen(n.NodeNS(1), n.NodeAddr(1)+":0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
	c, err := Dial(context.Background(), n.NodeNS(0), ln.Addr().String())
	require.NoError(t, err, "node to node over the bridge")
	buf := make([]byte, 2)
	_, err = c.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "hi", string(buf))
	c.Close()
	out, err := exec.Command("ping", "-c1", "-W1", n.NodeAddr(0)).CombinedOutput()
	if _, lerr := exec.LookPath("ping"); lerr == nil {
		assert.NoError(t, err, "harness to node: %s", out)
	}
	require.NoError(t, n.Close())
	assert.Empty(t, Leftovers(n.ID))
	require.NoError(t, n.Close(), "Close twice")
}

// TestSweepRemovesOnlyDeadRuns: a run whose owner is gone is removed, a live one is kept.
func TestSweepRemovesOnlyDeadRuns(t *testing.T) {
	needRoot(t)
	live, err := Create(context.Background(), 1)
	require.NoError(t, err)
	defer live.Close()
	dead, err := Create(context.Background(), 1)
	require.NoError(t, err)
	defer dead.Close()
	// A process in the dead run's namespace, as a crashed harness would leave a member.
	sleeper := Command(dead.NodeNS(0), "sleep", "60")
	require.NoError(t, sleeper.Start())
	exited := make(chan struct{})
	go func() { sleeper.Wait(); close(exited) }()
	require.NoError(t, os.WriteFile(ownerFile(dead.ID), []byte("999999999"), 0o644))

	require.NoError(t, Sweep())
	assert.Empty(t, Leftovers(dead.ID), "crashed run swept")
	<-exited
	assert.Len(t, Leftovers(live.ID), 3, "live run kept: bridge, node, link")
	out, _ := exec.Command("ip", "netns", "list").Output()
	assert.True(t, strings.Contains(string(out), live.BridgeNS))
}
