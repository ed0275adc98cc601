//go:build unix

package pack

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lock takes the lock of packsDir (an flock on packsDir/.lock), waiting
// for another install or remove to finish, and returns its release.
func lock(packsDir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(packsDir, ".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("pack: locking %s: %w", f.Name(), err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
