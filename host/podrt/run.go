package podrt

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/orrery/orrery/node/pod"
)

// ErrBusy reports a pod that another supervisor is already running.
var ErrBusy = errors.New("podrt: pod is locked by another supervisor")

// Run starts a prepared pod, supervises it until it ends and returns its final record.
// The app's output goes to the pod's log and, when out is not nil, to out as well.
func (rt *Runtime) Run(name string, out io.Writer) (*Pod, error) {
	s, err := rt.Start(name, out)
	if err != nil {
		return nil, err
	}
	return s.Wait()
}

// Supervision is a running pod and its supervisor's resources.
type Supervision struct {
	rt   *Runtime
	p    *Pod
	cmd  *exec.Cmd
	lock *podLock
	log  *os.File
}

// Pod is the pod's record as of the start.
func (s *Supervision) Pod() *Pod { return s.p }

// Start starts a prepared pod and returns once its app is running (or failed to start).
func (rt *Runtime) Start(name string, out io.Writer) (*Supervision, error) {
	p, err := rt.Get(name)
	if err != nil {
		return nil, err
	}
	lock, err := openLock(p.dir)
	if err != nil {
		return nil, err
	}
	if ok, err := lock.tryExclusive(); err != nil || !ok {
		lock.close()
		return nil, fmt.Errorf("%w: %s", ErrBusy, name)
	}
	s := &Supervision{rt: rt, p: p, lock: lock}
	if p.State != pod.Prepared {
		s.release()
		return nil, fmt.Errorf("podrt: pod %s is %s, not prepared", name, p.State)
	}
	if err := s.start(out); err != nil {
		s.fail(err)
		return nil, err
	}
	return s, nil
}

func (s *Supervision) start(out io.Writer) error {
	p, rt := s.p, s.rt
	if err := rt.cg.create(rt.cfg.CgroupParent, p.Name, p.Limits); err != nil {
		return err
	}
	if p.Net == pod.NetDefault {
		addr, err := rt.allocate(p)
		if err != nil {
			return err
		}
		p.Addr = addr.String()
	}
	spec, err := rt.stage1Spec(p)
	if err != nil {
		return err
	}
	if s.log, err = os.OpenFile(filepath.Join(p.dir, "log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err != nil {
		return fmt.Errorf("podrt: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	defer w.Close()
	s.cmd = rt.stage1Cmd(p, spec, r, s.output(out))
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("podrt: start stage1: %w", err)
	}
	p.PID = s.cmd.Process.Pid
	if err := s.place(); err != nil {
		return err
	}
	if _, err := w.Write([]byte{1}); err != nil {
		return fmt.Errorf("podrt: release stage1: %w", err)
	}
	p.Started = time.Now().UTC()
	return p.apply(pod.EvStart)
}

func (s *Supervision) output(out io.Writer) io.Writer {
	if out == nil {
		return s.log
	}
	return io.MultiWriter(s.log, out)
}

// place puts the held stage1 into the pod's cgroup and network before it may go on.
func (s *Supervision) place() error {
	if err := s.rt.cg.join(s.rt.cfg.CgroupParent, s.p.Name, s.p.PID); err != nil {
		return err
	}
	if s.p.Net == pod.NetHost {
		return nil
	}
	return s.rt.setupNet(s.p)
}

func (rt *Runtime) stage1Spec(p *Pod) (string, error) {
	rootfs := filepath.Join(p.Tree, "rootfs")
	uid, gid, err := resolveIDs(rootfs, p.App.User, p.App.Group)
	if err != nil {
		return "", err
	}
	dir := p.App.WorkingDirectory
	if dir == "" {
		dir = "/"
	}
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=" + p.Name, "AC_APP_NAME=" + p.Name}
	for _, e := range p.App.Environment {
		env = append(env, e.Name+"="+e.Value)
	}
	spec := stage1Spec{Hostname: p.Name, Lower: rootfs, Upper: filepath.Join(p.dir, "upper"), Work: filepath.Join(p.dir, "work"),
		Root: filepath.Join(p.dir, "rootfs"), Exec: p.App.Exec, Env: env, Dir: dir, UID: uid, GID: gid,
		Loopback: p.Net != pod.NetHost}
	data, err := json.Marshal(spec)
	if err != nil {
		return "", err
	}
	path := filepath.Join(p.dir, "stage1.json")
	return path, os.WriteFile(path, data, 0o600)
}

func (rt *Runtime) stage1Cmd(p *Pod, spec string, sync *os.File, out io.Writer) *exec.Cmd {
	cmd := exec.Command(rt.cfg.Stage1[0], rt.cfg.Stage1[1:]...)
	cmd.Env = []string{Stage1Env + "=" + spec}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.ExtraFiles = []*os.File{sync}
	flags := syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC
	if p.Net != pod.NetHost {
		flags |= syscall.CLONE_NEWNET
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: uintptr(flags), Pdeathsig: syscall.SIGKILL, Setsid: true}
	return cmd
}

// Wait blocks until the pod's app ends, records how, and releases the pod's resources.
func (s *Supervision) Wait() (*Pod, error) {
	err := s.cmd.Wait()
	st := exitStatus(s.cmd.ProcessState, err)
	if s.rt.cg.oomKills(s.rt.cfg.CgroupParent, s.p.Name) > 0 {
		st.OOMKilled = true
	}
	s.p.Status, s.p.Ended = &st, time.Now().UTC()
	saveErr := s.p.apply(pod.EvExit)
	s.release()
	return s.p, saveErr
}

func exitStatus(ps *os.ProcessState, err error) pod.ExitStatus {
	if ps == nil {
		return pod.ExitStatus{Code: -1, Reason: fmt.Sprint(err)}
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() {
		return pod.ExitStatus{Code: 128 + int(ws.Signal()), Signal: ws.Signal().String()}
	}
	return pod.ExitStatus{Code: ps.ExitCode()}
}

// fail records a pod that could not start and undoes what the start had done.
func (s *Supervision) fail(cause error) {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
	s.p.Status = &pod.ExitStatus{Code: -1, Reason: cause.Error()}
	s.p.Ended = time.Now().UTC()
	_ = s.p.apply(pod.EvStartFail)
	s.release()
}

// release removes the cgroup and the host end of the network, and drops the lock.
func (s *Supervision) release() {
	_ = s.rt.cg.remove(s.rt.cfg.CgroupParent, s.p.Name)
	s.rt.teardownNet(s.p)
	if s.log != nil {
		s.log.Close()
	}
	s.lock.close()
}
