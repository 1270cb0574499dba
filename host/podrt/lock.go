package podrt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// podLock is the pod's lock file. The supervisor holds it exclusively for as long as the
// pod runs; the kernel drops it when the supervisor dies, however it dies, so "running
// and unlocked" means "its supervisor is gone".
type podLock struct{ f *os.File }

func openLock(dir string) (*podLock, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("podrt: lock: %w", err)
	}
	return &podLock{f: f}, nil
}

// tryExclusive takes the lock without waiting; false when someone holds it.
func (l *podLock) tryExclusive() (bool, error) {
	err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

// waitShared blocks until no supervisor holds the lock.
func (l *podLock) waitShared() error {
	for {
		err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_SH)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

func (l *podLock) close() { l.f.Close() }

// held reports whether a supervisor holds the pod's lock right now.
func held(dir string) bool {
	l, err := openLock(dir)
	if err != nil {
		return false
	}
	defer l.close()
	ok, err := l.tryExclusive()
	return err == nil && !ok
}
