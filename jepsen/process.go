package jepsen

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/orrery/orrery/jepsen/netns"
)

// proc is one run of a node's process.
type proc struct {
	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
	err    error         // its exit status, once done
	paused bool
}

func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (c *nsCluster) Start(node string) error {
	if c.index(node) < 0 {
		return fmt.Errorf("jepsen: no node %q", node)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.left[node] {
		return nil // no longer a member: it stays down until Rejoin
	}
	return c.startLocked(node)
}

// startLocked starts the node's process unless it runs; the caller holds c.mu.
func (c *nsCluster) startLocked(node string) error {
	if c.closed {
		return errors.New("jepsen: cluster closed")
	}
	if p := c.procs[node]; p != nil && p.alive() {
		return nil
	}
	if err := os.MkdirAll(c.dataDir(node), 0o755); err != nil {
		return err
	}
	logf, err := os.OpenFile(c.LogPath(node), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	bin, args := c.args(node)
	fmt.Fprintf(logf, "=== jepsen: %s start %s %v\n", time.Now().Format(time.RFC3339Nano), bin, args)
	cmd := netns.Command(c.Namespace(node), bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Die with the harness: a crashed harness must not leave members running (Sweep also
	// kills whatever is left in a dead run's namespaces).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("jepsen: start %s: %w", node, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		fmt.Fprintf(logf, "=== jepsen: %s exit %v\n", time.Now().Format(time.RFC3339Nano), p.err)
		logf.Close()
		close(p.done)
	}()
	c.procs[node] = p
	c.gen[node]++
	c.log.Info("jepsen: started", "node", node, "pid", cmd.Process.Pid, "generation", c.gen[node])
	return nil
}

// live returns the node's process if it is running.
func (c *nsCluster) live(node string) *proc {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.procs[node]; p != nil && p.alive() {
		return p
	}
	return nil
}

func (c *nsCluster) Kill(node string) error {
	if c.index(node) < 0 {
		return fmt.Errorf("jepsen: no node %q", node)
	}
	p := c.live(node)
	if p == nil {
		return nil
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.done:
		c.log.Info("jepsen: killed", "node", node)
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("jepsen: kill %s: pid %d still running after 10s", node, p.cmd.Process.Pid)
	}
}

func (c *nsCluster) Pause(node string) error  { return c.signal(node, syscall.SIGSTOP, true) }
func (c *nsCluster) Resume(node string) error { return c.signal(node, syscall.SIGCONT, false) }

func (c *nsCluster) signal(node string, sig syscall.Signal, paused bool) error {
	if c.index(node) < 0 {
		return fmt.Errorf("jepsen: no node %q", node)
	}
	p := c.live(node)
	if p == nil {
		if paused {
			return fmt.Errorf("jepsen: pause %s: not running", node)
		}
		return nil
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("jepsen: %v %s: %w", sig, node, err)
	}
	c.mu.Lock()
	p.paused = paused
	c.mu.Unlock()
	return nil
}

func (c *nsCluster) Running(node string) bool { return c.live(node) != nil }

// Leave implements Rejoiner.
func (c *nsCluster) Leave(node string) error {
	if c.index(node) < 0 {
		return fmt.Errorf("jepsen: no node %q", node)
	}
	c.mu.Lock()
	c.left[node] = true
	c.mu.Unlock()
	return c.Kill(node)
}

// Rejoin implements Rejoiner.
func (c *nsCluster) Rejoin(node string) error {
	if err := c.Kill(node); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.incarnation[node]++
	c.left[node] = false
	c.log.Info("jepsen: rejoining as a new member", "node", node, "data-dir", c.dataDir(node))
	return c.startLocked(node)
}

// Left implements Rejoiner.
func (c *nsCluster) Left(node string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.left[node]
}

func (c *nsCluster) Generation(node string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen[node]
}

// Close kills every node, stops the proxies, removes the namespaces (with their links and
// nftables tables), the root link and the temp dir if Up made one. Safe to call twice.
func (c *nsCluster) Close() error {
	c.mu.Lock()
	c.closed = true
	procs := make([]*proc, 0, len(c.procs))
	for _, p := range c.procs {
		procs = append(procs, p)
	}
	clients := c.clients
	c.clients = nil
	c.mu.Unlock()
	var errs []error
	for _, p := range procs {
		if p.alive() {
			p.cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	for _, p := range procs {
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			errs = append(errs, fmt.Errorf("jepsen: pid %d survived SIGKILL", p.cmd.Process.Pid))
		}
	}
	for _, sc := range clients {
		sc.close()
	}
	for _, p := range c.proxies {
		p.Close()
	}
	c.proxies = nil
	if c.net != nil {
		errs = append(errs, c.net.Close())
	}
	if c.tmp != "" {
		errs = append(errs, os.RemoveAll(c.tmp))
		c.tmp = ""
	}
	return errors.Join(errs...)
}

// allExited reports whether every node has been started and has exited since.
func (c *nsCluster) allExited() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.names {
		if p := c.procs[n]; p == nil || p.alive() {
			return false
		}
	}
	return true
}

// logTail returns the last lines of a node's log, for error messages.
func (c *nsCluster) logTail(node string) string {
	b, _ := os.ReadFile(c.LogPath(node))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], "\n")
}
