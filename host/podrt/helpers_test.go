package podrt

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func netPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// cleanupTest stops and removes every pod of the test, its bridge and its cgroup parent.
func (rt *Runtime) cleanupTest(t testing.TB) {
	pods, _ := rt.List()
	for _, p := range pods {
		rt.Stop(p.Name, true, time.Second)
	}
	rt.GC(0)
	ip("link", "del", rt.cfg.Bridge)
	for _, d := range rt.cg.dirs(rt.cfg.CgroupParent, "") {
		os.Remove(d)
	}
}

// leftovers lists mounts, cgroups and links a test's pods left on the host.
func (rt *Runtime) leftovers(t testing.TB) []string {
	var out []string
	info, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(info), "\n") {
		if strings.Contains(line, rt.cfg.DataDir) {
			out = append(out, "mount: "+line)
		}
	}
	for _, d := range rt.cg.dirs(rt.cfg.CgroupParent, "") {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if e.IsDir() {
				out = append(out, "cgroup: "+filepath.Join(d, e.Name()))
			}
		}
	}
	links, _ := os.ReadDir("/sys/class/net")
	pods, _ := os.ReadDir(filepath.Join(rt.cfg.DataDir, "pods"))
	for _, l := range links {
		for _, p := range pods {
			if l.Name() == vethName(&Pod{dir: filepath.Join(rt.cfg.DataDir, "pods", p.Name())}) {
				out = append(out, "link: "+l.Name())
			}
		}
	}
	return out
}
