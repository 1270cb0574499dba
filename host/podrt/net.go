package podrt

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/orrery/orrery/node/pod"
)

// The default network is programmed with iproute2 (`ip`) and util-linux (`nsenter`):
// a bridge per host, and per pod a veth pair whose host end joins the bridge and whose
// other end becomes the pod's eth0. The pod's end lives in the pod's network namespace,
// so the pair disappears with the pod; teardownNet only removes a host end left behind.

// allocate picks the lowest free address of the subnet (the first is the bridge's). A file
// lock serialises allocation among the host's supervisors.
func (rt *Runtime) allocate(p *Pod) (netip.Prefix, error) {
	l, err := openLock(filepath.Join(rt.cfg.DataDir, "pods"))
	if err != nil {
		return netip.Prefix{}, err
	}
	defer l.close()
	if err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_EX); err != nil {
		return netip.Prefix{}, fmt.Errorf("podrt: ipam lock: %w", err)
	}
	taken := map[string]bool{}
	pods, err := rt.List()
	if err != nil {
		return netip.Prefix{}, err
	}
	for _, q := range pods {
		if q.State == pod.Running && q.Addr != "" && q.Name != p.Name {
			taken[q.Addr] = true
		}
	}
	for n := 2; ; n++ {
		a, ok := pod.NthAddr(rt.cfg.Subnet, n)
		if !ok {
			return netip.Prefix{}, fmt.Errorf("podrt: subnet %s is full", rt.cfg.Subnet)
		}
		pfx := netip.PrefixFrom(a, rt.cfg.Subnet.Bits())
		if !taken[pfx.String()] {
			p.Addr = pfx.String()
			return pfx, p.save() // the record claims the address before the lock drops
		}
	}
}

// vethName derives the host end's name from the pod's directory (unique per data dir).
func vethName(p *Pod) string {
	sum := sha256.Sum256([]byte(p.dir))
	return "vo" + hex.EncodeToString(sum[:])[:12]
}

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("podrt: ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// inPod runs ip inside the pod's network namespace.
func inPod(pid int, args ...string) error {
	nsArgs := append([]string{"--net=/proc/" + strconv.Itoa(pid) + "/ns/net", "ip"}, args...)
	out, err := exec.Command("nsenter", nsArgs...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("podrt: in pod: ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// setupNet gives a pod on the default network its veth. (Stage1 brings up loopback
// itself; see loopbackUp.)
func (rt *Runtime) setupNet(p *Pod) error {
	if p.Net != pod.NetDefault {
		return nil
	}
	if err := rt.ensureBridge(); err != nil {
		return err
	}
	host, peer := vethName(p), "vp"+vethName(p)[2:]
	gw, _ := pod.NthAddr(rt.cfg.Subnet, 1)
	steps := [][]string{
		{"link", "add", host, "type", "veth", "peer", "name", peer, "netns", strconv.Itoa(p.PID)},
		{"link", "set", host, "master", rt.cfg.Bridge, "up"},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			return err
		}
	}
	inside := [][]string{
		{"link", "set", peer, "name", "eth0"},
		{"addr", "add", p.Addr, "dev", "eth0"},
		{"link", "set", "eth0", "up"},
		{"route", "add", "default", "via", gw.String()},
	}
	for _, s := range inside {
		if err := inPod(p.PID, s...); err != nil {
			return err
		}
	}
	return nil
}

// ensureBridge creates the host bridge with the subnet's first address, once.
func (rt *Runtime) ensureBridge() error {
	if _, err := os.Stat(filepath.Join("/sys/class/net", rt.cfg.Bridge)); err == nil {
		return nil
	}
	gw, _ := pod.NthAddr(rt.cfg.Subnet, 1)
	steps := [][]string{
		{"link", "add", rt.cfg.Bridge, "type", "bridge"},
		{"addr", "add", netip.PrefixFrom(gw, rt.cfg.Subnet.Bits()).String(), "dev", rt.cfg.Bridge},
		{"link", "set", rt.cfg.Bridge, "up"},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			return err
		}
	}
	return nil
}

// teardownNet removes the host end of the pod's veth if it outlived the pod.
func (rt *Runtime) teardownNet(p *Pod) {
	if p.Net != pod.NetDefault {
		return
	}
	name := vethName(p)
	if _, err := os.Stat(filepath.Join("/sys/class/net", name)); err == nil {
		_ = ip("link", "del", name)
	}
}
