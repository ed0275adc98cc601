package pack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// StatusName is the file in a packs_dir where a running daemon says which
// packs it runs.
const StatusName = ".status.json"

// Pack states in a Status.
const (
	StateLoaded  = "loaded"  // every script of the pack runs
	StateFailed  = "failed"  // the pack does not run; Error says why
	StateSkipped = "skipped" // not started: its ranges are not met
)

// Status is what a running daemon writes in its packs_dir, as JSON, each
// time a pack is loaded, reloaded, unloaded or fails: written to a hidden
// file beside and renamed over StatusName, so readers never see half of
// it. The daemon removes it when it stops.
type Status struct {
	PID     int                   `json:"pid"`     // the daemon's process
	Started time.Time             `json:"started"` // when it started
	Updated time.Time             `json:"updated"` // when it last wrote the file
	Packs   map[string]PackStatus `json:"packs"`   // by pack name
}

// PackStatus is the state of one pack in a running daemon.
type PackStatus struct {
	Version string `json:"version,omitempty"`
	Dir     string `json:"dir"`
	State   string `json:"state"`           // StateLoaded, StateFailed or StateSkipped
	Error   string `json:"error,omitempty"` // why it failed or was skipped
}

// WriteStatus writes s to packsDir's status file, atomically.
func WriteStatus(packsDir string, s *Status) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(packsDir, ".status-*")
	if err != nil {
		return fmt.Errorf("pack: status: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("pack: status: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("pack: status: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(packsDir, StatusName)); err != nil {
		return fmt.Errorf("pack: status: %w", err)
	}
	return nil
}

// RemoveStatus removes packsDir's status file if the daemon pid wrote it.
func RemoveStatus(packsDir string, pid int) {
	if s, err := readStatus(packsDir); err == nil && s != nil && s.PID == pid {
		_ = os.Remove(filepath.Join(packsDir, StatusName))
	}
}

// ReadStatus returns the status written by the daemon running on
// packsDir, or nil when there is none: no status file, or one left by a
// process that no longer runs.
func ReadStatus(packsDir string) (*Status, error) {
	s, err := readStatus(packsDir)
	if err != nil || s == nil {
		return nil, err
	}
	if !processRunning(s.PID) {
		return nil, nil
	}
	return s, nil
}

func readStatus(packsDir string) (*Status, error) {
	data, err := readRegular(filepath.Join(packsDir, StatusName), maxManifestSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pack: status: %w", err)
	}
	var s Status
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("pack: status file %s: %w", filepath.Join(packsDir, StatusName), err)
	}
	return &s, nil
}
