// Package netns builds the Jepsen harness's hosts: one network namespace per node, a bridge
// in a namespace of its own, veth pairs between them, and one veth into the root namespace
// with a private /24 address so the harness process can reach every node. Nothing else in the
// root namespace changes. Everything is named after a run ID with the prefix "oj", so that
// Close and Sweep (for runs that crashed) can find what a run made and nothing else.
//
// It shells out to iproute2's ip and nftables' nft, and uses setns(2) on a locked thread to
// open sockets inside a node's namespace (Listen, Dial).
package netns

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Prefix starts every namespace and root-namespace link name the harness creates.
const Prefix = "oj"

// idLen is the number of hex digits in a run ID: "oj" + 6 + "h" keeps the root link's name
// at 9 bytes, well within IFNAMSIZ (15).
const idLen = 6

// nameRE matches the namespaces of any run (node namespaces "ojXXXXXX-n3", bridge "ojXXXXXX-br").
var nameRE = regexp.MustCompile(`^` + Prefix + `([0-9a-f]{6})-(br|n[0-9]+)$`)

// linkRE matches a run's veth in the root namespace.
var linkRE = regexp.MustCompile(`^` + Prefix + `([0-9a-f]{6})h$`)

// ErrNotRoot means the caller lacks the privileges to create namespaces.
var ErrNotRoot = errors.New("netns: creating network namespaces needs root")

// Net is one run's network: a bridge namespace, N node namespaces and the harness's link.
type Net struct {
	ID       string // run ID, 6 hex digits
	Subnet   string // e.g. "10.213.47" (the /24 without its last octet)
	HostAddr string // the harness's address on the bridge, e.g. "10.213.47.1"
	BridgeNS string
	HostLink string // the veth in the root namespace
	nodes    []string
}

// NodeNS is the namespace of node i (0-based).
func (n *Net) NodeNS(i int) string { return fmt.Sprintf("%s%s-n%d", Prefix, n.ID, i+1) }

// NodeAddr is the address of node i (0-based) on the bridge: .11, .12, ...
func (n *Net) NodeAddr(i int) string { return fmt.Sprintf("%s.%d", n.Subnet, 11+i) }

// Namespaces lists every namespace of the run, bridge first.
func (n *Net) Namespaces() []string {
	out := []string{n.BridgeNS}
	for i := range n.nodes {
		out = append(out, n.NodeNS(i))
	}
	return out
}

// NewID returns a fresh random run ID.
func NewID() string {
	var b [idLen / 2]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Create builds the network for nodes hosts. On error, whatever was created is removed.
// It records the owner's PID in StateDir so that Sweep can tell a crashed run from a live one.
func Create(ctx context.Context, nodes int) (_ *Net, err error) {
	if os.Geteuid() != 0 {
		return nil, ErrNotRoot
	}
	subnet, err := freeSubnet(ctx)
	if err != nil {
		return nil, err
	}
	id := NewID()
	n := &Net{ID: id, Subnet: subnet, HostAddr: subnet + ".1", BridgeNS: Prefix + id + "-br", HostLink: Prefix + id + "h"}
	for i := range nodes {
		n.nodes = append(n.nodes, n.NodeNS(i))
	}
	if err := writeOwner(id); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, n.Close())
		}
	}()
	if err := n.bridge(ctx); err != nil {
		return nil, err
	}
	for i := range nodes {
		if err := n.node(ctx, i); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func (n *Net) bridge(ctx context.Context) error {
	br := n.BridgeNS
	return runAll(ctx,
		[]string{"netns", "add", br},
		[]string{"-n", br, "link", "set", "lo", "up"},
		[]string{"-n", br, "link", "add", "br0", "type", "bridge"},
		[]string{"-n", br, "link", "set", "br0", "up"},
		[]string{"link", "add", n.HostLink, "type", "veth", "peer", "name", "harness", "netns", br},
		[]string{"-n", br, "link", "set", "harness", "master", "br0"},
		[]string{"-n", br, "link", "set", "harness", "up"},
		[]string{"addr", "add", n.HostAddr + "/24", "dev", n.HostLink},
		[]string{"link", "set", n.HostLink, "up"},
	)
}

func (n *Net) node(ctx context.Context, i int) error {
	ns, br, port := n.NodeNS(i), n.BridgeNS, fmt.Sprintf("n%d", i+1)
	return runAll(ctx,
		[]string{"netns", "add", ns},
		[]string{"-n", ns, "link", "set", "lo", "up"},
		[]string{"-n", br, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns},
		[]string{"-n", br, "link", "set", port, "master", "br0"},
		[]string{"-n", br, "link", "set", port, "up"},
		[]string{"-n", ns, "addr", "add", n.NodeAddr(i) + "/24", "dev", "eth0"},
		[]string{"-n", ns, "link", "set", "eth0", "up"},
	)
}

// Close kills every process left in the run's namespaces, then deletes the namespaces (which
// takes their veth ends with them) and the root link. It is safe to call on a half-built Net
// and more than once.
func (n *Net) Close() error {
	return remove(n.ID, len(n.nodes))
}

// remove deletes the root link before the namespaces: deleting the bridge namespace also
// deletes the link (its veth peer lives there), but the kernel dismantles a namespace
// asynchronously, so a link that exists just after "ip netns del" may be gone by the time
// "ip link del" runs. Deleting the link first is synchronous, and a link that vanished on
// its own is not an error.
func remove(id string, nodes int) error {
	var errs []error
	link := Prefix + id + "h"
	if linkExists(link) {
		if err := run(context.Background(), "link", "del", link); err != nil && linkExists(link) {
			errs = append(errs, err)
		}
	}
	nss, _ := listNS()
	for _, ns := range nss {
		m := nameRE.FindStringSubmatch(ns)
		if m == nil || m[1] != id {
			continue
		}
		killAll(ns)
		if err := run(context.Background(), "netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}
	os.Remove(ownerFile(id))
	return errors.Join(errs...)
}

// killAll SIGKILLs every process in namespace ns and waits briefly for them to go.
func killAll(ns string) {
	for range 50 {
		out, _ := exec.Command("ip", "netns", "pids", ns).Output()
		pids := strings.Fields(string(out))
		if len(pids) == 0 {
			return
		}
		for _, p := range pids {
			if pid, err := strconv.Atoi(p); err == nil {
				if proc, err := os.FindProcess(pid); err == nil {
					proc.Kill()
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Sweep removes what crashed earlier runs left behind: namespaces and root links named
// like this package's, whose owner process (recorded at Create) is gone. Live runs, of this
// process or another, are left alone.
func Sweep() error {
	ids := map[string]bool{}
	nss, err := listNS()
	if err != nil {
		return err
	}
	for _, ns := range nss {
		if m := nameRE.FindStringSubmatch(ns); m != nil {
			ids[m[1]] = true
		}
	}
	for _, l := range listLinks() {
		if m := linkRE.FindStringSubmatch(l); m != nil {
			ids[m[1]] = true
		}
	}
	var errs []error
	for id := range ids {
		if ownerAlive(id) {
			continue
		}
		errs = append(errs, remove(id, 0))
	}
	return errors.Join(errs...)
}

// Leftovers lists the namespaces and root links of run id that still exist (for tests).
func Leftovers(id string) []string {
	var out []string
	nss, _ := listNS()
	for _, ns := range nss {
		if m := nameRE.FindStringSubmatch(ns); m != nil && m[1] == id {
			out = append(out, "netns "+ns)
		}
	}
	for _, l := range listLinks() {
		if m := linkRE.FindStringSubmatch(l); m != nil && m[1] == id {
			out = append(out, "link "+l)
		}
	}
	return out
}

// StateDir holds one file per live run with its owner's PID.
const StateDir = "/run/orrery-jepsen"

func ownerFile(id string) string { return filepath.Join(StateDir, id+".pid") }

func writeOwner(id string) error {
	if err := os.MkdirAll(StateDir, 0o755); err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	return os.WriteFile(ownerFile(id), []byte(strconv.Itoa(os.Getpid())), 0o644)
}

// ownerAlive reports whether the process that created run id still runs. A missing or
// unreadable file counts as dead: Create writes it before it creates anything.
func ownerAlive(id string) bool {
	b, err := os.ReadFile(ownerFile(id))
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return false
	}
	_, err = os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

func listNS() ([]string, error) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return nil, fmt.Errorf("ip netns list: %w", err)
	}
	var nss []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			nss = append(nss, f[0])
		}
	}
	return nss, nil
}

func listLinks() []string {
	ifs, _ := net.Interfaces()
	var out []string
	for _, i := range ifs {
		out = append(out, i.Name)
	}
	return out
}

func linkExists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}

// freeSubnet picks 10.213.X.0/24 with X random such that no address or route of the root
// namespace falls inside it.
func freeSubnet(ctx context.Context) (string, error) {
	used, err := exec.CommandContext(ctx, "ip", "-4", "-o", "route", "show", "table", "all").Output()
	if err != nil {
		return "", fmt.Errorf("ip route: %w", err)
	}
	addrs, err := exec.CommandContext(ctx, "ip", "-4", "-o", "addr").Output()
	if err != nil {
		return "", fmt.Errorf("ip addr: %w", err)
	}
	all := string(used) + string(addrs)
	var b [1]byte
	for range 100 {
		rand.Read(b[:])
		x := int(b[0])%250 + 2
		s := fmt.Sprintf("10.213.%d", x)
		if !strings.Contains(all, s+".") && !coveredByRoute(string(used), s+".1") {
			return s, nil
		}
	}
	return "", errors.New("netns: no free 10.213.X.0/24")
}

// coveredByRoute reports whether a non-default route of the root namespace contains ip.
func coveredByRoute(routes, ip string) bool {
	addr := net.ParseIP(ip)
	for _, line := range strings.Split(routes, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] == "default" {
			continue
		}
		dst := f[0]
		if f[0] == "local" || f[0] == "broadcast" || f[0] == "unicast" {
			if len(f) < 2 {
				continue
			}
			dst = f[1]
		}
		if !strings.Contains(dst, "/") {
			dst += "/32"
		}
		if _, n, err := net.ParseCIDR(dst); err == nil && n.Contains(addr) {
			return true
		}
	}
	return false
}

func runAll(ctx context.Context, cmds ...[]string) error {
	for _, c := range cmds {
		if err := run(ctx, c...); err != nil {
			return err
		}
	}
	return nil
}

func run(ctx context.Context, args ...string) error {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
