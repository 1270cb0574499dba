package podrt

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/node/pod"
)

// The pod runtime's latency benchmarks: start to exit of a trivial app (/bin/true, the
// static podapp, which exits 0 at once) with a warm image store, against the cheapest
// comparable isolation, `unshare --fork --pid --mount-proc chroot ROOTFS /bin/true`, on
// the same extracted rootfs. scripts/bench-pod.sh measures the same through the CLI.
//
//	go test -run '^$' -bench 'PodRun|Baseline' -benchtime 50x ./host/podrt/
//
// Both need root and skip without it.

// BenchmarkPodRunTrivial times Prepare+Run of a pod whose app exits at once. Removing the
// pod is left out of the timing (gc is not part of start-to-exit).
func BenchmarkPodRunTrivial(b *testing.B) {
	for _, net := range []pod.NetMode{pod.NetNone, pod.NetHost, pod.NetDefault} {
		b.Run("net="+string(net), func(b *testing.B) {
			e := newEnv(b, "10.213.11.0/24")
			// Warm the store and the page cache: the first run pays for both.
			runTrue(b, e, "warm", net)
			require.NoError(b, e.rt.Remove("warm"))
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				name := fmt.Sprintf("bench-%d", i)
				runTrue(b, e, name, net)
				b.StopTimer()
				require.NoError(b, e.rt.Remove(name))
				b.StartTimer()
			}
		})
	}
}

func runTrue(b *testing.B, e *env, name string, net pod.NetMode) {
	_, err := e.rt.Prepare(Options{Name: name, Image: e.image, Net: net})
	require.NoError(b, err)
	// The image's exec is "/bin/podapp info 0"; run /bin/true (the same binary, which
	// exits 0 at once when called by that name) by overriding the app in the record.
	p, err := e.rt.Get(name)
	require.NoError(b, err)
	p.App.Exec = []string{"/bin/true"}
	require.NoError(b, p.save())
	p, err = e.rt.Run(name, nil)
	require.NoError(b, err)
	if p.Status == nil || p.Status.Code != 0 {
		b.Fatalf("pod %s: status %v, log:\n%s", name, p.Status, readLog(p))
	}
}

func readLog(p *Pod) string {
	data, _ := os.ReadFile(filepath.Join(p.Dir(), "log"))
	return string(data)
}

// BenchmarkBaselineUnshareChroot times the baseline on the image's rootfs in the tree
// store: a new pid and mount namespace with its own /proc, chroot, exec /bin/true.
func BenchmarkBaselineUnshareChroot(b *testing.B) {
	e := newEnv(b, "")
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		b.Skip("needs unshare (util-linux)")
	}
	rootfs := filepath.Join(e.tree, "rootfs")
	args := []string{"--fork", "--pid", "--mount-proc", "chroot", rootfs, "/bin/true"}
	if out, err := exec.Command(unshare, args...).CombinedOutput(); err != nil {
		b.Fatalf("baseline: %v: %s", err, out)
	}
	b.ResetTimer()
	for b.Loop() {
		if out, err := exec.Command(unshare, args...).CombinedOutput(); err != nil {
			b.Fatalf("baseline: %v: %s", err, out)
		}
	}
}
