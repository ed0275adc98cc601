// Package watch reports files that may have changed, once their changes
// have settled. It watches folders (a watch on a file dies when an editor
// renames it away), ignores editors' temporary, swap and backup files, and
// coalesces each burst of events on a path into one report after a quiet
// period (the debounce). A report only says "look at this path again":
// the receiver stats it and compares contents, because editors save in
// many ways (write in place, rename a temporary file over it, rename the
// original away and create a new one, copy over it) and touch changes
// nothing. When the kernel's queue overflows, events are lost, so the
// watcher asks for a rescan instead.
package watch

import (
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// An Event is a path to look at again, or a request to rescan everything.
type Event struct {
	Path   string // absolute; empty when Rescan
	Rescan bool
}

// A Watcher reports settled changes under the folders it watches.
type Watcher struct {
	fsw      folders
	in       <-chan fsnotify.Event
	errs     <-chan error
	log      *slog.Logger
	debounce time.Duration
	events   chan Event

	mu   sync.Mutex
	dirs map[string]bool

	stop chan struct{}
	done chan struct{}
}

// folders is what the watcher needs of fsnotify.Watcher besides its
// channels (tests give it a stand-in, to feed events in fake time).
type folders interface {
	Add(dir string) error
	Remove(dir string) error
	Close() error
}

// New starts a watcher; Events delivers its reports until Close.
func New(debounce time.Duration, log *slog.Logger) (*Watcher, error) {
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	return newWatcher(debounce, log, fsw, fsw.Events, fsw.Errors), nil
}

func newWatcher(debounce time.Duration, log *slog.Logger, fsw folders, in <-chan fsnotify.Event, errs <-chan error) *Watcher {
	w := &Watcher{
		fsw:      fsw,
		in:       in,
		errs:     errs,
		log:      log,
		debounce: debounce,
		events:   make(chan Event, 256),
		dirs:     make(map[string]bool),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go w.loop()
	return w
}

// Events delivers reports; it is closed by Close.
func (w *Watcher) Events() <-chan Event { return w.events }

// Watch adds a folder (not recursive); watching it again is a no-op.
func (w *Watcher) Watch(dir string) error {
	dir = filepath.Clean(dir)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dirs[dir] {
		return nil
	}
	if err := w.fsw.Add(dir); err != nil {
		return err
	}
	w.dirs[dir] = true
	return nil
}

// Watching reports whether dir is watched.
func (w *Watcher) Watching(dir string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dirs[filepath.Clean(dir)]
}

// Dirs returns the watched folders.
func (w *Watcher) Dirs() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.dirs))
	for d := range w.dirs {
		out = append(out, d)
	}
	return out
}

// Close stops the watcher and closes Events.
func (w *Watcher) Close() error {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	err := w.fsw.Close()
	<-w.done
	return err
}

// Ignored reports whether name (a base name) is an editor's temporary,
// swap or backup file, or a hidden file: vim's .x.swp and 4913, emacs's
// .#x and #x#, and x~ backups.
func Ignored(name string) bool {
	switch {
	case name == "" || name == "4913":
		return true
	case strings.HasPrefix(name, "."), strings.HasSuffix(name, "~"):
		return true
	case strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#"):
		return true
	case strings.HasSuffix(name, ".swp"), strings.HasSuffix(name, ".swx"), strings.HasSuffix(name, ".tmp"):
		return true
	}
	return false
}

func (w *Watcher) loop() {
	defer close(w.done)
	defer close(w.events)
	pending := make(map[string]time.Time)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	arm := func() {
		var next time.Time
		for _, at := range pending {
			if next.IsZero() || at.Before(next) {
				next = at
			}
		}
		if armed {
			timer.Stop()
			armed = false
		}
		if !next.IsZero() {
			timer.Reset(time.Until(next))
			armed = true
		}
	}
	for {
		select {
		case <-w.stop:
			timer.Stop()
			return
		case ev, ok := <-w.in:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Remove|fsnotify.Rename) && w.forget(ev.Name) {
				// a watched folder went away (and its watch with it): whoever
				// watches must look at everything again, and watch it anew
				// if it comes back
				if !w.send(Event{Rescan: true}) {
					return
				}
				continue
			}
			if Ignored(filepath.Base(ev.Name)) {
				continue
			}
			pending[ev.Name] = time.Now().Add(w.debounce)
			arm()
		case err, ok := <-w.errs:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.log.Warn("file watcher overflowed: rescanning", "error", err)
				if !w.send(Event{Rescan: true}) {
					return
				}
				continue
			}
			w.log.Error("file watcher", "error", err)
		case <-timer.C:
			armed = false
			now := time.Now()
			for p, at := range pending {
				if !at.After(now) {
					delete(pending, p)
					if !w.send(Event{Path: p}) {
						return
					}
				}
			}
			arm()
		}
	}
}

// forget drops dir from the watched folders, if it is one.
func (w *Watcher) forget(dir string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.dirs[dir] {
		return false
	}
	delete(w.dirs, dir)
	_ = w.fsw.Remove(dir)
	return true
}

func (w *Watcher) send(ev Event) bool {
	select {
	case w.events <- ev:
		return true
	case <-w.stop:
		return false
	}
}
