package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/host/podrt"
	"github.com/orrery/orrery/node/pod"
)

// TestMain lets the test binary stand in for the orrery binary as a pod's stage1.
//
// `orrery pod run` starts stage1 by re-executing /proc/self/exe as `pod stage1` with
// ORRERY_POD_STAGE1 set (podrt.Config.Stage1); inside `go test` /proc/self/exe is this
// test binary. So when that variable is set, the test binary runs the real CLI on its
// arguments, which reaches the hidden `pod stage1` command exactly as the orrery binary
// would; the tests never run in that process. This keeps the runtime's configuration the
// one users get (no test-only option to point it at another binary, no second build).
func TestMain(m *testing.M) {
	if podrt.IsStage1() {
		os.Exit(run(os.Args, os.Stdout, os.Stderr))
	}
	code := m.Run()
	if appDir != "" {
		os.RemoveAll(appDir)
	}
	os.Exit(code)
}

var (
	appOnce sync.Once
	appDir  string
	appPath string
	appErr  error
	appOut  []byte
)

// podApp compiles the pod runtime's static test program once per test binary; called as
// "podapp info N" it prints what it sees (pid, hostname, ...) and exits N.
func podApp(t *testing.T) string {
	t.Helper()
	appOnce.Do(func() {
		if appDir, appErr = os.MkdirTemp("", "orrery-podapp-"); appErr != nil {
			return
		}
		appPath = filepath.Join(appDir, "podapp")
		cmd := exec.Command("go", "build", "-o", appPath, "../../host/podrt/testdata/podapp")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		appOut, appErr = cmd.CombinedOutput()
	})
	require.NoError(t, appErr, "%s", appOut)
	return appPath
}

// podEnv is one test's data dir and cgroup parent; cleanup stops and removes its pods and
// cgroups whether the test passed or not.
type podEnv struct {
	data, cgroupParent string
}

func newPodEnv(t *testing.T) *podEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: pods use namespaces, overlayfs and cgroups")
	}
	b := make([]byte, 3)
	rand.Read(b)
	e := &podEnv{data: t.TempDir(), cgroupParent: "orrery-clitest-" + hex.EncodeToString(b)}
	t.Cleanup(func() { e.cleanup(t) }) // runs before the data dir is removed
	return e
}

// pod runs `orrery pod` with the test's data dir and cgroup parent.
func (e *podEnv) pod(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return orrery(t, append([]string{"pod", "--data-dir", e.data, "--cgroup-parent", e.cgroupParent}, args...)...)
}

func (e *podEnv) cleanup(t *testing.T) {
	if _, out, _ := e.pod(t, "list", "--json"); strings.TrimSpace(out) != "null" {
		var pods []podrt.Pod
		_ = json.Unmarshal([]byte(out), &pods)
		for _, p := range pods {
			e.pod(t, "stop", "--force", "--timeout", "1s", p.Name)
		}
	}
	if code, _, errOut := e.pod(t, "gc", "--grace-period", "0"); code != exitOK {
		t.Errorf("cleanup: pod gc: %s", errOut)
	}
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + e.cgroupParent)
	dirs = append(dirs, filepath.Join("/sys/fs/cgroup", e.cgroupParent))
	for _, d := range dirs {
		if err := os.Remove(d); err != nil && !os.IsNotExist(err) {
			t.Errorf("cleanup: cgroup %s: %v", d, err)
		}
	}
	info, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(info), "\n") {
		if strings.Contains(line, e.data) {
			t.Errorf("cleanup: a pod's mount leaked to the host: %s", line)
		}
	}
}

// image builds the test image (exec "/bin/podapp info 0") into the env's store.
func (e *podEnv) image(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "bin"), 0o755))
	app, err := os.ReadFile(podApp(t))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin/podapp"), app, 0o755))
	code, out, errOut := orrery(t, "image", "--data-dir", e.data, "build", "--name", "example.com/podapp",
		"--exec", "/bin/podapp", "--exec", "info", "--exec", "0", root)
	require.Equal(t, exitOK, code, errOut)
	return strings.TrimSpace(out)
}

func (e *podEnv) list(t *testing.T) []podrt.Pod {
	t.Helper()
	code, out, errOut := e.pod(t, "list", "--json")
	require.Equal(t, exitOK, code, errOut)
	var pods []podrt.Pod
	require.NoError(t, json.Unmarshal([]byte(out), &pods), out)
	return pods
}

func TestPodRunListStatusGC(t *testing.T) {
	e := newPodEnv(t)
	image := e.image(t)

	// The app's exit code is the command's; its output is the command's output.
	code, out, errOut := e.pod(t, "run", "--net", "none", "--name", "seven", "--memory", "64M", image, "--", "info", "7")
	require.Equal(t, 7, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "pid=1 hostname=seven ")
	code, out, errOut = e.pod(t, "run", "--net", "none", "--name", "zero", "example.com/podapp")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "pid=1 hostname=zero ")

	code, table, errOut := e.pod(t, "list")
	require.Equal(t, exitOK, code, errOut)
	lines := strings.Split(strings.TrimSpace(table), "\n")
	require.Len(t, lines, 3, table)
	assert.Equal(t, []string{"NAME", "IMAGE", "STATE", "NET", "ADDRESS", "STATUS"}, strings.Fields(lines[0]))
	assert.Equal(t, []string{"seven", "example.com/podapp", "exited", "none", "code=7"}, strings.Fields(lines[1]))
	assert.Equal(t, []string{"zero", "example.com/podapp", "exited", "none", "code=0"}, strings.Fields(lines[2]))

	pods := e.list(t)
	require.Len(t, pods, 2)
	assert.Equal(t, "seven", pods[0].Name)
	assert.Equal(t, pod.Exited, pods[0].State)
	require.NotNil(t, pods[0].Status)
	assert.Equal(t, 7, pods[0].Status.Code)
	assert.Equal(t, int64(64<<20), pods[0].Limits.MemoryBytes)
	assert.Equal(t, image, string(pods[0].Image))

	code, out, errOut = e.pod(t, "status", "seven")
	require.Equal(t, exitOK, code, errOut)
	var st podrt.Pod
	require.NoError(t, json.Unmarshal([]byte(out), &st), out)
	assert.Equal(t, pod.Exited, st.State)
	require.NotNil(t, st.Status)
	assert.Equal(t, 7, st.Status.Code)
	assert.False(t, st.Ended.Before(st.Started), "ended %v before it started %v", st.Ended, st.Started)

	code, out, _ = e.pod(t, "logs", "seven")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "hostname=seven")

	// gc keeps pods younger than the grace period, then removes them with their directories.
	code, out, errOut = e.pod(t, "gc")
	require.Equal(t, exitOK, code, errOut)
	assert.Empty(t, out)
	assert.Len(t, e.list(t), 2)
	code, out, errOut = e.pod(t, "gc", "--grace-period", "0")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, []string{"seven", "zero"}, strings.Fields(out))
	assert.Empty(t, e.list(t))
	entries, err := os.ReadDir(filepath.Join(e.data, "pods"))
	require.NoError(t, err)
	for _, d := range entries {
		assert.False(t, d.IsDir(), "pod directory %s left behind", d.Name())
	}
	code, _, errOut = e.pod(t, "status", "seven")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "no such pod")
	cgroups, _ := filepath.Glob("/sys/fs/cgroup/*/" + e.cgroupParent + "/*")
	for _, d := range cgroups {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			t.Errorf("cgroup %s left behind", d)
		}
	}
}

func TestPodBadUsage(t *testing.T) {
	data := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "pod run: need an IMAGE"},
		{[]string{"run", "--net", "none"}, "pod run: need an IMAGE"},
		{[]string{"prepare"}, "pod prepare: need an IMAGE"},
		{[]string{"run", "--memory", "lots", "example.com/app"}, `pod run: --memory: pod: bad memory quantity "lots"`},
		{[]string{"run", "--memory", "-5M", "example.com/app"}, `bad memory quantity "-5M"`},
		{[]string{"run", "--cpu", "fast", "example.com/app"}, `pod run: --cpu: pod: bad cpu quantity "fast"`},
		{[]string{"run", "--net", "bogus", "example.com/app"}, "pod run: --net:"},
		{[]string{"run", "--name", "x", "--memory"}, "flag needs an argument"},
		{[]string{"run-prepared"}, "need one POD"},
		{[]string{"status"}, "need one POD"},
		{[]string{"logs"}, "need one POD"},
		{[]string{"enter"}, "need a POD"},
	} {
		code, out, errOut := orrery(t, append([]string{"pod", "--data-dir", data}, tc.args...)...)
		assert.Equal(t, exitUsage, code, "%v: %s%s", tc.args, out, errOut)
		assert.Contains(t, out+errOut, tc.want, "%v", tc.args)
	}
}

// A missing image is bad input (exit 2) and leaves no pod behind.
func TestPodRunMissingImage(t *testing.T) {
	e := newPodEnv(t)
	code, out, errOut := e.pod(t, "run", "--net", "none", "example.com/nothing")
	assert.Equal(t, exitUsage, code, out)
	assert.Contains(t, errOut, "image not found: example.com/nothing")
	assert.Empty(t, e.list(t))
}
