package netns

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Command returns a command that runs name with args inside namespace ns
// (`ip netns exec ns name args...`; ip execs, so the command's PID is the program's).
func Command(ns, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// NFT runs an nft script inside namespace ns.
func NFT(ctx context.Context, ns, script string) error {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("nft in %s: %w: %s\nscript:\n%s", ns, err, strings.TrimSpace(stderr.String()), script)
	}
	return nil
}

// In runs f on an OS thread switched into namespace ns. Sockets f creates belong to ns for
// their whole life, whichever thread uses them later; f must not start goroutines that
// expect to run in ns.
func In(ns string, f func() error) error {
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		return fmt.Errorf("netns %s: %w", ns, err)
	}
	defer target.Close()
	runtime.LockOSThread()
	self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: own namespace: %w", err)
	}
	defer self.Close()
	if err := setns(target.Fd()); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("setns %s: %w", ns, err)
	}
	ferr := f()
	if err := setns(self.Fd()); err != nil {
		// The thread is stuck in ns: leave it locked so it dies with this goroutine
		// rather than serve other goroutines in the wrong namespace.
		return fmt.Errorf("setns back from %s: %w", ns, err)
	}
	runtime.UnlockOSThread()
	return ferr
}

func setns(fd uintptr) error {
	return unix.Setns(int(fd), unix.CLONE_NEWNET)
}

// Listen opens a TCP listener on addr inside namespace ns.
func Listen(ns, addr string) (net.Listener, error) {
	var ln net.Listener
	err := In(ns, func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	})
	return ln, err
}

// Dial connects to addr from inside namespace ns.
func Dial(ctx context.Context, ns, addr string) (net.Conn, error) {
	var c net.Conn
	err := In(ns, func() error {
		var err error
		var d net.Dialer
		c, err = d.DialContext(ctx, "tcp", addr)
		return err
	})
	return c, err
}
