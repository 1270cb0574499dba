package podrt

import (
	"fmt"
	"syscall"
	"unsafe"
)

// ifreqFlags is struct ifreq as SIOCGIFFLAGS and SIOCSIFFLAGS use it: the interface's name
// and its flags, padded to the size of the kernel's union.
type ifreqFlags struct {
	name  [syscall.IFNAMSIZ]byte
	flags uint16
	_     [22]byte
}

// loopbackUp brings up lo in the calling process's network namespace. Stage1 calls it in
// the pod's fresh namespace instead of the supervisor running `nsenter ... ip link set lo
// up`, which cost two execs per pod start.
func loopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback: socket: %w", err)
	}
	defer syscall.Close(fd)
	var req ifreqFlags
	copy(req.name[:], "lo")
	if err := ioctl(fd, syscall.SIOCGIFFLAGS, &req); err != nil {
		return fmt.Errorf("loopback: get flags: %w", err)
	}
	if req.flags&syscall.IFF_UP != 0 {
		return nil
	}
	req.flags |= syscall.IFF_UP
	if err := ioctl(fd, syscall.SIOCSIFFLAGS, &req); err != nil {
		return fmt.Errorf("loopback: set lo up: %w", err)
	}
	return nil
}

func ioctl(fd int, req uintptr, arg *ifreqFlags) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req, uintptr(unsafe.Pointer(arg))); errno != 0 {
		return errno
	}
	return nil
}
