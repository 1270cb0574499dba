package podrt

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/host/podrt/aci"
	"github.com/orrery/orrery/host/podrt/imgstore"
	"github.com/orrery/orrery/node/pod"
)

// TestMain lets the test binary double as stage1: the runtime re-executes it.
func TestMain(m *testing.M) {
	if IsStage1() {
		Stage1Main()
	}
	os.Exit(m.Run())
}

var (
	appOnce sync.Once
	appPath string
	appErr  error
)

// podApp compiles testdata/podapp once per test binary: a static program, so an image
// needs nothing else in its root.
func podApp(t testing.TB) string {
	appOnce.Do(func() {
		dir, err := os.MkdirTemp("", "podapp-")
		if err != nil {
			appErr = err
			return
		}
		appPath = filepath.Join(dir, "podapp")
		cmd := exec.Command("go", "build", "-o", appPath, "./testdata/podapp")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			appErr = err
			t.Logf("%s", out)
		}
	})
	require.NoError(t, appErr)
	return appPath
}

func needRoot(t testing.TB) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: pods use namespaces, overlayfs, cgroups and veths")
	}
}

func suffix() string {
	b := make([]byte, 3)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// env is one test's data dir, image and runtime, with a cgroup parent of its own so the
// test can check that nothing is left under it.
type env struct {
	rt    *Runtime
	image string
	tree  string
}

func newEnv(t testing.TB, net string) *env {
	needRoot(t)
	data := t.TempDir()
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "bin"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "srv"), 0o755))
	app, err := os.ReadFile(podApp(t))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin/podapp"), app, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin/true"), app, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "image-marker"), []byte("original"), 0o644))
	m := &pod.ImageManifest{ACKind: pod.ACKindImage, ACVersion: pod.ACVersion, Name: "test/podapp",
		App: &pod.App{Exec: []string{"/bin/podapp", "info", "0"}, User: "0", Group: "0", WorkingDirectory: "/srv",
			Environment: []pod.EnvVar{{Name: "MODE", Value: "test"}}}}
	var buf bytes.Buffer
	require.NoError(t, aci.Build(root, m, &buf))
	st, err := imgstore.Open(data)
	require.NoError(t, err)
	img, err := st.Import(&buf, "")
	require.NoError(t, err)
	tree, _, err := st.Tree(img.ID)
	require.NoError(t, err)
	require.NoError(t, st.Close())

	sfx := suffix()
	cfg := Config{DataDir: data, Stage1: []string{"/proc/self/exe"}, CgroupParent: "orrery-test-" + sfx, Bridge: "obr" + sfx}
	if net != "" {
		cfg.Subnet = netPrefix(net)
	}
	rt, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { rt.cleanupTest(t) })
	return &env{rt: rt, image: string(img.ID), tree: tree}
}
