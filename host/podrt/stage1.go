package podrt

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Stage1Env names the stage1 file of the pod a re-executed binary must become.
const Stage1Env = "ORRERY_POD_STAGE1"

// stage1Spec is everything stage1 needs, written by the supervisor into the pod directory.
type stage1Spec struct {
	Hostname string   `json:"hostname"`
	Lower    string   `json:"lower"` // the image's rootfs in the tree store (read-only layer)
	Upper    string   `json:"upper"`
	Work     string   `json:"work"`
	Root     string   `json:"root"` // mount point of the pod's root
	Exec     []string `json:"exec"`
	Env      []string `json:"env"`
	Dir      string   `json:"dir"`
	UID      int      `json:"uid"`
	GID      int      `json:"gid"`
	// Loopback: bring up lo in the pod's own network namespace (every network but host).
	Loopback bool `json:"loopback,omitempty"`
}

// IsStage1 reports whether this process was started as a pod's stage1.
func IsStage1() bool { return os.Getenv(Stage1Env) != "" }

// Stage1Main turns this process into the pod's app. It runs in the pod's fresh namespaces,
// waits for the supervisor's go-ahead on fd 3 (sent once the process is in the pod's
// cgroup and network), builds the root and execs the app. It never returns: on failure it
// reports to stderr (the pod's log) and exits 125, which the supervisor records.
func Stage1Main() {
	err := stage1()
	fmt.Fprintf(os.Stderr, "orrery stage1: %v\n", err)
	os.Exit(125)
}

func stage1() error {
	data, err := os.ReadFile(os.Getenv(Stage1Env))
	if err != nil {
		return err
	}
	var s stage1Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	sync := os.NewFile(3, "sync")
	var b [1]byte
	if n, _ := sync.Read(b[:]); n != 1 {
		return fmt.Errorf("supervisor gave no go-ahead")
	}
	sync.Close()
	if s.Loopback {
		if err := loopbackUp(); err != nil {
			return err
		}
	}
	if err := buildRoot(&s); err != nil {
		return err
	}
	if err := syscall.Sethostname([]byte(s.Hostname)); err != nil {
		return fmt.Errorf("sethostname: %w", err)
	}
	return execApp(&s)
}

func execApp(s *stage1Spec) error {
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setgid(s.GID); err != nil {
		return fmt.Errorf("setgid %d: %w", s.GID, err)
	}
	if err := syscall.Setuid(s.UID); err != nil {
		return fmt.Errorf("setuid %d: %w", s.UID, err)
	}
	if err := os.Chdir(s.Dir); err != nil {
		return fmt.Errorf("working directory: %w", err)
	}
	if err := syscall.Exec(s.Exec[0], s.Exec, s.Env); err != nil {
		return fmt.Errorf("exec %s: %w", s.Exec[0], err)
	}
	return nil
}

// buildRoot mounts the overlay root with /proc, /sys and a minimal /dev, and pivots into
// it. Every mount is made in the pod's own mount namespace, marked private first so that
// nothing propagates back to the host: when the pod ends, they all vanish with it.
func buildRoot(s *stage1Spec) error {
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", s.Lower, s.Upper, s.Work)
	if err := syscall.Mount("overlay", s.Root, "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount overlay: %w", err)
	}
	for _, m := range podMounts {
		if err := m.mount(s.Root); err != nil {
			return err
		}
	}
	if err := makeDev(s.Root); err != nil {
		return err
	}
	return pivot(s.Root)
}

type mountSpec struct {
	target, fstype, source string
	flags                  uintptr
	data                   string
}

const nosuidNodevNoexec = syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC

var podMounts = []mountSpec{
	{"proc", "proc", "proc", nosuidNodevNoexec, ""},
	{"sys", "sysfs", "sysfs", nosuidNodevNoexec | syscall.MS_RDONLY, ""},
	{"dev", "tmpfs", "tmpfs", syscall.MS_NOSUID | syscall.MS_STRICTATIME, "mode=755,size=65536k"},
	{"dev/pts", "devpts", "devpts", syscall.MS_NOSUID | syscall.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"},
	{"dev/shm", "tmpfs", "shm", nosuidNodevNoexec, "mode=1777,size=65536k"},
}

func (m mountSpec) mount(root string) error {
	target := filepath.Join(root, m.target)
	if err := os.MkdirAll(target, 0o755); err != nil {
		return fmt.Errorf("mkdir %s: %w", m.target, err)
	}
	if err := syscall.Mount(m.source, target, m.fstype, m.flags, m.data); err != nil {
		return fmt.Errorf("mount %s on /%s: %w", m.fstype, m.target, err)
	}
	return nil
}

// devices are the character devices every pod gets (major, minor).
var devices = []struct {
	name         string
	major, minor uint32
}{
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
}

func makeDev(root string) error {
	dev := filepath.Join(root, "dev")
	for _, d := range devices {
		rdev := int(d.major<<8 | d.minor)
		if err := syscall.Mknod(filepath.Join(dev, d.name), syscall.S_IFCHR|0o666, rdev); err != nil {
			return fmt.Errorf("mknod /dev/%s: %w", d.name, err)
		}
		if err := os.Chmod(filepath.Join(dev, d.name), 0o666); err != nil { // umask
			return err
		}
	}
	links := [][2]string{{"pts/ptmx", "ptmx"}, {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}}
	for _, l := range links {
		if err := os.Symlink(l[0], filepath.Join(dev, l[1])); err != nil {
			return fmt.Errorf("symlink /dev/%s: %w", l[1], err)
		}
	}
	return nil
}

// pivot makes root the process's / and detaches the host's tree. pivot_root(".", ".")
// stacks the old root on the new one, so no directory for it is needed in the image.
func pivot(root string) error {
	if err := os.Chdir(root); err != nil {
		return err
	}
	if err := syscall.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := syscall.Unmount(".", syscall.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	return os.Chdir("/")
}
