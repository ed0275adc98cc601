//go:build unix

package pack

import (
	"errors"
	"syscall"
)

// processRunning reports whether a process with that id exists.
func processRunning(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
