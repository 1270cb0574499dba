//go:build !linux

package e2e

import "syscall"

// dieWithParent: only Linux can tie a child's life to its parent's; elsewhere the tests'
// cleanups alone stop member processes.
func dieWithParent() *syscall.SysProcAttr { return nil }
