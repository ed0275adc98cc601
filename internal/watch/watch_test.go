package watch

import (
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/agentd/agentd/internal/leakcheck"
	"github.com/agentd/agentd/internal/logging"
	"github.com/fsnotify/fsnotify"
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

// noFolders stands in for fsnotify when a test feeds the events itself.
type noFolders struct{}

func (noFolders) Add(string) error    { return nil }
func (noFolders) Remove(string) error { return nil }
func (noFolders) Close() error        { return nil }

// The debounce, in fake time: the events of a save settle into one report
// a debounce after the last of them, however long the burst lasts, while
// ignored names report nothing; a pause longer than the debounce ends a
// burst.
func TestBurstsSettleIntoOneEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const debounce = 50 * time.Millisecond
		in := make(chan fsnotify.Event)
		w := newWatcher(debounce, logging.Discard(), noFolders{}, in, make(chan error))
		type report struct {
			Event
			at time.Time
		}
		reports := make(chan report, 16)
		go func() {
			for ev := range w.Events() {
				reports <- report{ev, time.Now()}
			}
			close(reports)
		}()
		defer func() {
			w.Close()
			for range reports {
			}
		}()
		p := "/s/a.lua"
		// a vim-like save, one event every 20 ms: the whole burst lasts
		// longer than the debounce, no gap between events on a.lua does
		var last time.Time // of the last event on a.lua
		for _, ev := range []fsnotify.Event{
			{Name: "/s/.a.lua.swp", Op: fsnotify.Create},
			{Name: "/s/4913", Op: fsnotify.Create},
			{Name: "/s/4913", Op: fsnotify.Remove},
			{Name: p, Op: fsnotify.Rename},
			{Name: p + "~", Op: fsnotify.Create},
			{Name: p, Op: fsnotify.Create},
			{Name: p, Op: fsnotify.Write},
			{Name: p + "~", Op: fsnotify.Remove},
			{Name: "/s/.a.lua.swp", Op: fsnotify.Remove},
		} {
			in <- ev
			if ev.Name == p {
				last = time.Now()
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if r := <-reports; r.Path != p || r.at.Sub(last) != debounce {
			t.Fatalf("report %+v %v after the last event, want %s after %v", r.Event, r.at.Sub(last), p, debounce)
		}
		select {
		case r := <-reports:
			t.Fatalf("extra report %+v: the burst was one change of a.lua", r.Event)
		default:
		}

		// a pause longer than the debounce: two reports
		in <- fsnotify.Event{Name: p, Op: fsnotify.Write}
		time.Sleep(debounce + time.Millisecond)
		in <- fsnotify.Event{Name: p, Op: fsnotify.Write}
		time.Sleep(time.Hour)
		synctest.Wait()
		if len(reports) != 2 {
			t.Fatalf("%d reports after two writes a pause apart, want 2", len(reports))
		}
	})
}

// With fsnotify and real files: a save is reported, and editors' files
// are not.
func TestRealFolder(t *testing.T) {
	dir := t.TempDir()
	w, err := New(20*time.Millisecond, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Watch(dir); err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(dir, "a.lua"), filepath.Join(dir, "b.lua")
	os.WriteFile(filepath.Join(dir, ".a.lua.swp"), []byte("x"), 0o644)
	os.WriteFile(a, []byte("v1"), 0o644)
	os.WriteFile(a+"~", []byte("v0"), 0o644)
	os.Remove(filepath.Join(dir, ".a.lua.swp"))
	if ev := next(t, w); ev.Path != a {
		t.Fatalf("event %+v, want %s", ev, a)
	}
	os.WriteFile(b, []byte("b"), 0o644)
	// a.lua may be reported again (on a slow machine its create and
	// write may fall into two debounces), nothing else is
	for ev := next(t, w); ev.Path != b; ev = next(t, w) {
		if ev.Path != a {
			t.Fatalf("event %+v, want %s or %s", ev, a, b)
		}
	}
}
