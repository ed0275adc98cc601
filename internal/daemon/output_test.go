package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/agentd/agentd/internal/config"
)

// switchable is a standard output that fails while off, like a pipe
// nobody reads.
type switchable struct {
	mu  sync.Mutex
	off bool
	out *lines
}

func (w *switchable) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.off {
		return 0, errors.New("broken pipe")
	}
	return w.out.Write(p)
}

func (w *switchable) set(off bool) {
	w.mu.Lock()
	w.off = off
	w.mu.Unlock()
}

// Prints that cannot be written are dropped and counted, never fail the
// script; one warning says so, output resumes when it can, and Close
// says how many lines were lost.
func TestPrintsToAFailingStdout(t *testing.T) {
	dir := t.TempDir()
	script := "local s = agentd.service('ticker')\nfunction s:init() self:startTimer(self.tick, 0.005, 't') end\n" +
		"function s:tick() print('tick') self:startTimer(self.tick, 0.005, 't') end\n"
	if err := os.WriteFile(filepath.Join(dir, "ticker.lua"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte("[agentd]\nscripts = [\"ticker.lua\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	stdout := &switchable{off: true, out: newLines()}
	logs := newLines()
	d, err := New(c, Options{Stdout: stdout, Stderr: logs})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	logs.waitFor(t, `msg="standard output cannot be written: what scripts print is dropped until it can" error="broken pipe"`)
	stdout.set(false)
	logs.waitFor(t, `msg="standard output can be written again" dropped=`)
	stdout.out.waitFor(t, "tick\n")
	stdout.set(true)
	logs.waitCount(t, "standard output cannot be written", 2)
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	logs.waitFor(t, `msg="print output was lost: standard output could not be written" lines=`)
	if errs := logs.String(); strings.Contains(errs, "callback failed") {
		t.Errorf("a print failed a callback:\n%s", errs)
	}
}
