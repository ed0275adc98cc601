//go:build !unix

package pack

// processRunning cannot tell where signals do not exist: a status file
// is taken as current.
func processRunning(pid int) bool { return pid > 0 }
