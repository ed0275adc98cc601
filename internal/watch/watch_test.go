package watch

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/agentd/agentd/internal/leakcheck"
	"github.com/agentd/agentd/internal/logging"
)

func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m, os.Stderr)) }

func TestIgnored(t *testing.T) {
	for name, want := range map[string]bool{
		"a.lua": false, "main.lua": false, ".a.lua.swp": true, "a.lua~": true, "4913": true,
		".#a.lua": true, "#a.lua#": true, ".hidden.lua": true, "a.lua.tmp": true, "": true,
	} {
		if got := Ignored(name); got != want {
			t.Errorf("Ignored(%q) = %v, want %v", name, got, want)
		}
	}
}

// next waits for the next event; the timeout only keeps a broken watcher
// from hanging the test.
func next(t *testing.T, w *Watcher) Event {
	t.Helper()
	select {
	case ev := <-w.Events():
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
		return Event{}
	}
}

func TestBurstsSettleIntoOneEvent(t *testing.T) {
	dir := t.TempDir()
	w, err := New(50*time.Millisecond, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Watch(dir); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "a.lua")
	// a vim-like save: swap file, rename away, create, write, remove backup
	os.WriteFile(filepath.Join(dir, ".a.lua.swp"), []byte("x"), 0o644)
	os.WriteFile(p, []byte("v1"), 0o644)
	os.Rename(p, p+"~")
	os.WriteFile(p, []byte("v2"), 0o644)
	os.Remove(p + "~")
	os.Remove(filepath.Join(dir, ".a.lua.swp"))
	if ev := next(t, w); ev.Path != p {
		t.Fatalf("event %+v, want %s", ev, p)
	}
	// nothing else follows: the burst was one change of a.lua
	os.WriteFile(filepath.Join(dir, "b.lua"), []byte("b"), 0o644)
	if ev := next(t, w); ev.Path != filepath.Join(dir, "b.lua") {
		t.Fatalf("event %+v, want b.lua", ev)
	}
}
