package podrt

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/orrery/orrery/node/pod"
)

// Wait blocks until the pod is no longer running and returns its record.
func (rt *Runtime) Wait(name string) (*Pod, error) {
	p, err := rt.Get(name)
	if err != nil || p.State.Final() {
		return p, err
	}
	l, err := openLock(p.dir)
	if err != nil {
		return nil, err
	}
	err = l.waitShared()
	l.close()
	if err != nil {
		return nil, fmt.Errorf("podrt: wait: %w", err)
	}
	return rt.Get(name)
}

// Stop ends a running pod: SIGTERM to its app, then SIGKILL after timeout (at once with
// force). The kernel delivers only signals the app handles to a PID 1, so an app that
// ignores SIGTERM is killed when the timeout passes.
func (rt *Runtime) Stop(name string, force bool, timeout time.Duration) (*Pod, error) {
	p, err := rt.Get(name)
	if err != nil {
		return nil, err
	}
	if p.State != pod.Running || p.PID == 0 {
		return p, nil
	}
	sig := syscall.SIGTERM
	if force {
		sig = syscall.SIGKILL
	}
	syscall.Kill(p.PID, sig)
	done := make(chan struct{})
	go func() {
		rt.Wait(name)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		syscall.Kill(p.PID, syscall.SIGKILL)
		<-done
	}
	return rt.Get(name)
}

// GC marks pods that ended more than grace ago as garbage and removes them with every
// resource they held; it also removes pods that never finished preparing. It returns the
// names of the pods removed.
func (rt *Runtime) GC(grace time.Duration) ([]string, error) {
	pods, err := rt.List()
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, p := range pods {
		if !collectable(p, grace) {
			continue
		}
		if p.State != pod.Garbage {
			if err := p.apply(pod.EvCollect); err != nil {
				return removed, err
			}
		}
		if err := rt.sweep(p); err != nil {
			return removed, err
		}
		removed = append(removed, p.Name)
	}
	return removed, nil
}

func collectable(p *Pod, grace time.Duration) bool {
	switch p.State {
	case pod.Garbage:
		return true
	case pod.Exited, pod.Aborted:
		return time.Since(p.Ended) >= grace
	case pod.Embryo, pod.Preparing:
		return time.Since(p.Created) >= grace && !held(p.dir)
	}
	return false
}

// Remove deletes an ended pod at once, whatever its age.
func (rt *Runtime) Remove(name string) error {
	p, err := rt.Get(name)
	if err != nil {
		return err
	}
	if p.State == pod.Running || p.State == pod.Prepared && held(p.dir) {
		return fmt.Errorf("podrt: pod %s is %s; stop it first", name, p.State)
	}
	if p.State == pod.Exited || p.State == pod.Aborted {
		if err := p.apply(pod.EvCollect); err != nil {
			return err
		}
	}
	return rt.sweep(p)
}

// sweep releases whatever a dead pod may still hold and deletes its directory.
func (rt *Runtime) sweep(p *Pod) error {
	if err := rt.cg.remove(rt.cfg.CgroupParent, p.Name); err != nil {
		return err
	}
	rt.teardownNet(p)
	// The pod's mounts lived in its own mount namespace and died with it; a rootfs still
	// mounted here would be a bug, and RemoveAll must not descend into the image below.
	if err := syscall.Unmount(p.dir+"/rootfs", syscall.MNT_DETACH); err == nil {
		return fmt.Errorf("podrt: pod %s: its root was still mounted on the host", p.Name)
	}
	if err := os.RemoveAll(p.dir); err != nil {
		return fmt.Errorf("podrt: remove pod %s: %w", p.Name, err)
	}
	return nil
}

// EnterCommand returns a command that runs args inside a running pod's namespaces and root.
func (rt *Runtime) EnterCommand(name string, args []string) (*exec.Cmd, error) {
	p, err := rt.Get(name)
	if err != nil {
		return nil, err
	}
	if p.State != pod.Running {
		return nil, fmt.Errorf("podrt: pod %s is %s, not running", name, p.State)
	}
	if len(args) == 0 {
		args = []string{"/bin/sh"}
	}
	nsArgs := []string{"--target", strconv.Itoa(p.PID), "--mount", "--uts", "--ipc", "--pid", "--root", "--wd"}
	if p.Net != pod.NetHost {
		nsArgs = append(nsArgs, "--net")
	}
	return exec.Command("nsenter", append(append(nsArgs, "--"), args...)...), nil
}
