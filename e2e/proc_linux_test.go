package e2e

import "syscall"

// dieWithParent has the kernel kill a member process if the test binary dies without
// running its cleanups (a panic, a -timeout): no orphaned members hold ports.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
