package podrt

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/orrery/orrery/node/pod"
)

// cgroups is the host's cgroup layout, detected once: on a cgroup2-only host (the common
// case today) memory and cpu live in one unified tree; on a v1 or hybrid host each
// controller has its own mount, and the cgroup2 mount (if any) carries neither.
type cgroups struct {
	v2     string // unified mount with the memory and cpu controllers, or ""
	memory string // v1 memory controller mount, or ""
	cpu    string // v1 cpu controller mount, or ""
}

// detectCgroups reads /proc/self/mountinfo.
func detectCgroups() (cgroups, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return cgroups{}, fmt.Errorf("podrt: cgroups: %w", err)
	}
	defer f.Close()
	var cg cgroups
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		mnt, fstype, opts, ok := parseMountinfo(sc.Text())
		switch {
		case !ok:
		case fstype == "cgroup2" && hasControllers(mnt, "memory", "cpu"):
			cg.v2 = mnt
		case fstype == "cgroup" && hasOpt(opts, "memory"):
			cg.memory = mnt
		case fstype == "cgroup" && hasOpt(opts, "cpu"):
			cg.cpu = mnt
		}
	}
	if cg.v2 != "" {
		return cgroups{v2: cg.v2}, nil
	}
	if cg.memory == "" {
		return cgroups{}, errors.New("podrt: no cgroup with the memory controller (neither cgroup2 with memory nor a v1 memory mount)")
	}
	return cg, nil
}

// parseMountinfo returns the mount point, file system type and super options of a line.
func parseMountinfo(line string) (mnt, fstype, superOpts string, ok bool) {
	pre, post, found := strings.Cut(line, " - ")
	fields, rest := strings.Fields(pre), strings.Fields(post)
	if !found || len(fields) < 5 || len(rest) < 3 {
		return "", "", "", false
	}
	return fields[4], rest[0], rest[2], true
}

func hasOpt(opts, want string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

func hasControllers(mnt string, want ...string) bool {
	data, err := os.ReadFile(filepath.Join(mnt, "cgroup.controllers"))
	if err != nil {
		return false
	}
	have := strings.Fields(string(data))
	for _, w := range want {
		if !hasOpt(strings.Join(have, ","), w) {
			return false
		}
	}
	return true
}

// dirs are the cgroup directories of one pod.
func (cg cgroups) dirs(parent, name string) []string {
	if cg.v2 != "" {
		return []string{filepath.Join(cg.v2, parent, name)}
	}
	out := []string{filepath.Join(cg.memory, parent, name)}
	if cg.cpu != "" {
		out = append(out, filepath.Join(cg.cpu, parent, name))
	}
	return out
}

// create makes the pod's cgroups and applies its limits.
func (cg cgroups) create(parent, name string, l pod.Limits) error {
	if cg.v2 != "" {
		if err := enableV2(cg.v2, parent); err != nil {
			return err
		}
	}
	for _, d := range cg.dirs(parent, name) {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("podrt: cgroup: %w", err)
		}
	}
	return cg.limit(parent, name, l)
}

// enableV2 turns on the memory and cpu controllers for the children of parent.
func enableV2(root, parent string) error {
	dir := root
	for _, part := range append([]string{""}, strings.Split(parent, "/")...) {
		dir = filepath.Join(dir, part)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("podrt: cgroup: %w", err)
		}
		if err := write(filepath.Join(dir, "cgroup.subtree_control"), "+memory +cpu"); err != nil {
			return err
		}
	}
	return nil
}

func (cg cgroups) limit(parent, name string, l pod.Limits) error {
	if cg.v2 != "" {
		d := filepath.Join(cg.v2, parent, name)
		if l.MemoryBytes > 0 {
			if err := write(filepath.Join(d, "memory.max"), strconv.FormatInt(l.MemoryBytes, 10)); err != nil {
				return err
			}
			_ = write(filepath.Join(d, "memory.swap.max"), "0") // absent without swap accounting
		}
		if l.MilliCPU > 0 {
			return write(filepath.Join(d, "cpu.max"), fmt.Sprintf("%d 100000", l.MilliCPU*100))
		}
		return nil
	}
	if l.MemoryBytes > 0 {
		d := filepath.Join(cg.memory, parent, name)
		if err := write(filepath.Join(d, "memory.limit_in_bytes"), strconv.FormatInt(l.MemoryBytes, 10)); err != nil {
			return err
		}
		// With swap accounting, cap memory+swap too: a hog must be killed, not swapped.
		_ = write(filepath.Join(d, "memory.memsw.limit_in_bytes"), strconv.FormatInt(l.MemoryBytes, 10))
	}
	if l.MilliCPU > 0 && cg.cpu != "" {
		d := filepath.Join(cg.cpu, parent, name)
		if err := write(filepath.Join(d, "cpu.cfs_period_us"), "100000"); err != nil {
			return err
		}
		return write(filepath.Join(d, "cpu.cfs_quota_us"), strconv.FormatInt(l.MilliCPU*100, 10))
	}
	return nil
}

// join moves pid into every cgroup of the pod.
func (cg cgroups) join(parent, name string, pid int) error {
	for _, d := range cg.dirs(parent, name) {
		if err := write(filepath.Join(d, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
			return err
		}
	}
	return nil
}

// oomKills reads how many times the OOM killer fired in the pod's memory cgroup.
func (cg cgroups) oomKills(parent, name string) int {
	file, d := "memory.oom_control", filepath.Join(cg.memory, parent, name)
	if cg.v2 != "" {
		file, d = "memory.events", filepath.Join(cg.v2, parent, name)
	}
	data, err := os.ReadFile(filepath.Join(d, file))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// remove deletes the pod's cgroups. Right after the last process exits the kernel may
// still report the group busy for a moment, so it retries briefly; any process still
// inside is killed first, so a cgroup never outlives its pod.
func (cg cgroups) remove(parent, name string) error {
	var last error
	for _, d := range cg.dirs(parent, name) {
		for try := 0; try < 50; try++ {
			killAll(d)
			err := syscall.Rmdir(d)
			if err == nil || errors.Is(err, syscall.ENOENT) {
				last = nil
				break
			}
			last = fmt.Errorf("podrt: remove cgroup %s: %w", d, err)
			time.Sleep(20 * time.Millisecond)
		}
		if last != nil {
			return last
		}
	}
	return nil
}

func killAll(dir string) {
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func write(path, value string) error {
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("podrt: cgroup: write %s: %w", path, err)
	}
	return nil
}
