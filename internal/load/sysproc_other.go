//go:build unix && !linux

package load

import "syscall"

// childSysProcAttr puts a child (server, SIPp) in its own process group, so
// that it and its helpers can be signalled together.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
