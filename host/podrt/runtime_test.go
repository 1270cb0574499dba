package podrt

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/node/pod"
)

func TestPodRunsIsolated(t *testing.T) {
	e := newEnv(t, "")
	p, err := e.rt.Prepare(Options{Name: "iso-pod", Image: e.image, Args: []string{"info", "7"}, Net: pod.NetNone})
	require.NoError(t, err)
	assert.Equal(t, pod.Prepared, p.State)
	var out bytes.Buffer
	p, err = e.rt.Run("iso-pod", &out)
	require.NoError(t, err)
	t.Log(out.String())

	assert.Equal(t, pod.Exited, p.State)
	require.NotNil(t, p.Status)
	assert.Equal(t, 7, p.Status.Code, "the app's exit code is the pod's status")
	assert.Contains(t, out.String(), "pid=1 ", "the app is PID 1")
	assert.Contains(t, out.String(), "hostname=iso-pod ")
	assert.Contains(t, out.String(), "procs=1 ", "the app sees only its own processes")
	assert.Contains(t, out.String(), "marker=true", "its root is the image's rootfs")
	assert.Contains(t, out.String(), "wd=/srv env=test")

	marker, err := os.ReadFile(filepath.Join(e.tree, "rootfs/image-marker"))
	require.NoError(t, err)
	assert.Equal(t, "original", string(marker), "the pod's writes must not reach the tree store")
	_, err = os.Stat(filepath.Join(e.tree, "rootfs/written-by-pod"))
	assert.True(t, os.IsNotExist(err))
	_, err = os.Stat(filepath.Join(p.Dir(), "upper/written-by-pod"))
	assert.NoError(t, err, "writes land in the pod's upper dir")

	log, err := os.ReadFile(filepath.Join(p.Dir(), "log"))
	require.NoError(t, err)
	assert.Contains(t, string(log), "hostname=iso-pod")

	again, err := e.rt.Get("iso-pod")
	require.NoError(t, err)
	assert.Equal(t, pod.Exited, again.State, "a fresh reader finds the recorded state")
}

func TestPodOOMKilled(t *testing.T) {
	e := newEnv(t, "")
	_, err := e.rt.Prepare(Options{Name: "hog", Image: e.image, Args: []string{"alloc", "256"}, Net: pod.NetNone,
		Limits: pod.Limits{MemoryBytes: 32 << 20}})
	require.NoError(t, err)
	p, err := e.rt.Run("hog", nil)
	require.NoError(t, err)
	require.NotNil(t, p.Status)
	assert.True(t, p.Status.OOMKilled, "status %s", p.Status)
	assert.Equal(t, 137, p.Status.Code)
}

func TestGCLeavesNothingBehind(t *testing.T) {
	e := newEnv(t, "10.213.7.0/24")
	for _, name := range []string{"gc-a", "gc-b"} {
		_, err := e.rt.Prepare(Options{Name: name, Image: e.image, Args: []string{"info", "0"}})
		require.NoError(t, err)
		_, err = e.rt.Run(name, nil)
		require.NoError(t, err)
	}
	removed, err := e.rt.GC(time.Hour)
	require.NoError(t, err)
	assert.Empty(t, removed, "pods younger than the grace period stay")
	removed, err = e.rt.GC(0)
	require.NoError(t, err)
	assert.Equal(t, []string{"gc-a", "gc-b"}, removed)
	pods, err := e.rt.List()
	require.NoError(t, err)
	assert.Empty(t, pods)
	assert.Empty(t, e.rt.leftovers(t))
}

func TestStopAndWait(t *testing.T) {
	e := newEnv(t, "")
	_, err := e.rt.Prepare(Options{Name: "sleeper", Image: e.image, Args: []string{"sleep"}, Net: pod.NetNone})
	require.NoError(t, err)
	s, err := e.rt.Start("sleeper", nil)
	require.NoError(t, err)
	done := make(chan *Pod)
	go func() { p, _ := s.Wait(); done <- p }()
	p, err := e.rt.Get("sleeper")
	require.NoError(t, err)
	assert.Equal(t, pod.Running, p.State)
	_, err = e.rt.Start("sleeper", nil)
	assert.ErrorIs(t, err, ErrBusy, "a running pod cannot be started twice")
	p, err = e.rt.Stop("sleeper", false, 300*time.Millisecond)
	require.NoError(t, err)
	<-done
	assert.Equal(t, pod.Exited, p.State)
	assert.NotEqual(t, 0, p.Status.Code, "status %s", p.Status)
	assert.Empty(t, e.rt.leftovers(t))
}

func TestDefaultNetwork(t *testing.T) {
	e := newEnv(t, "10.213.9.0/24")
	_, err := e.rt.Prepare(Options{Name: "server", Image: e.image, Args: []string{"serve", "8080"}})
	require.NoError(t, err)
	srv, err := e.rt.Start("server", nil)
	require.NoError(t, err)
	addr := strings.Split(srv.Pod().Addr, "/")[0]
	require.NotEmpty(t, addr)

	_, err = e.rt.Prepare(Options{Name: "isolated", Image: e.image, Args: []string{"dial", addr + ":8080"}, Net: pod.NetNone})
	require.NoError(t, err)
	p, err := e.rt.Run("isolated", nil)
	require.NoError(t, err)
	assert.Equal(t, 3, p.Status.Code, "a --net=none pod cannot reach another pod")

	var out bytes.Buffer
	var client *Pod
	for try := 0; try < 20; try++ { // the server may still be starting to listen
		name := "client-" + string(rune('a'+try))
		_, err = e.rt.Prepare(Options{Name: name, Image: e.image, Args: []string{"dial", addr + ":8080"}})
		require.NoError(t, err)
		out.Reset()
		client, err = e.rt.Run(name, &out)
		require.NoError(t, err)
		if client.Status.Code == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	assert.Equal(t, 0, client.Status.Code, out.String())
	assert.Contains(t, out.String(), `got "hi\n"`)
	sp, err := srv.Wait()
	require.NoError(t, err)
	assert.Equal(t, 0, sp.Status.Code)
}

func TestLoopbackIsUp(t *testing.T) {
	e := newEnv(t, "10.213.12.0/24")
	for _, net := range []pod.NetMode{pod.NetNone, pod.NetDefault} {
		name := "lo-" + string(net)
		_, err := e.rt.Prepare(Options{Name: name, Image: e.image, Args: []string{"loopback"}, Net: net})
		require.NoError(t, err)
		var out bytes.Buffer
		p, err := e.rt.Run(name, &out)
		require.NoError(t, err)
		assert.Equal(t, 0, p.Status.Code, "net=%s: %s", net, out.String())
	}
}
