package disk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockName is the lock file inside the data directory. bbolt locks orrery.db too, but its
// lock is taken with a wait and reports only a timeout; our own lock fails at once and
// names the directory and, when it can, the process holding it.
const lockName = "LOCK"

// inUseError says who holds the directory.
type inUseError struct {
	dir string
	pid string // holder's pid as it wrote it, or ""
}

func (e *inUseError) Error() string {
	msg := fmt.Sprintf("disk: data dir %s is in use by another process", e.dir)
	if e.pid != "" {
		msg += " (pid " + e.pid + ")"
	}
	return msg
}

func (e *inUseError) Is(target error) bool { return target == ErrInUse }

// lockDir takes the directory's lock without waiting. flock locks belong to the open file
// description, so a second Open in the same process is refused like another process, and
// the kernel releases the lock however the holder dies.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("disk: lock: %w", err)
	}
	err = flock(f)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, &inUseError{dir: dir, pid: holder(path)}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("disk: lock %s: %w", path, err)
	}
	// The pid is for the operator reading the error above; nothing depends on it.
	if f.Truncate(0) == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// holder reads the pid the lock's holder wrote, or "" if it cannot.
func holder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	pid := strings.TrimSpace(string(b))
	if _, err := strconv.Atoi(pid); err != nil {
		return ""
	}
	return pid
}
