//go:build !linux

package testserver

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }

func lockThread() {}

// processAlive is conservative where it cannot tell.
func processAlive(int) bool { return true }
