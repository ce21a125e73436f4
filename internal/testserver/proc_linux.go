package testserver

import (
	"runtime"
	"syscall"
)

// sysProcAttr kills the server when the test process dies, so a crashed or
// interrupted test binary leaves no server behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// lockThread pins the calling goroutine to its OS thread for the rest of
// its life: Pdeathsig fires when the thread that started the child exits.
func lockThread() { runtime.LockOSThread() }

// processAlive reports whether a process with pid exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
