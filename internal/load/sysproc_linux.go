//go:build linux

package load

import "syscall"

// childSysProcAttr puts a child (server, SIPp) in its own process group, so
// that it and its helpers can be signalled together, and has the kernel
// kill it should the harness die without cleaning up.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
