package daemon

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/agentd/agentd/internal/config"
	"github.com/agentd/agentd/internal/regfile"
	"github.com/agentd/agentd/internal/watch"
	"github.com/agentd/agentd/luabind"
)

// script is one script file the daemon knows: running or failed.
type script struct {
	sc    *luabind.Script     // nil when the last load failed
	hash  [32]byte            // content of the running version (or of the failed attempt)
	tried [32]byte            // content of the last attempt, to ignore saves that change nothing
	mods  map[string][32]byte // modules it required, with their content at load
}

// readHash reads the file at path (a regular file only, never blocking:
// see regfile) and returns its content's hash; the zero hash when it
// cannot be read.
func readHash(path string) ([32]byte, []byte, error) {
	data, err := regfile.Read(path)
	if err != nil {
		return [32]byte{}, nil, err
	}
	return sha256.Sum256(data), data, nil
}

// fileHash returns the hash of the file's content, and whether it could
// be read (see readHash).
func fileHash(path string) ([32]byte, bool) {
	h, _, err := readHash(path)
	return h, err == nil
}

// blank reports whether content is empty or only white space: a file an
// editor or a program has truncated and not written yet.
func blank(data []byte) bool { return len(bytes.TrimSpace(data)) == 0 }

// startWatching starts the file watcher when hot reload is on.
func (d *Daemon) startWatching() error {
	w, err := watch.New(d.cfg.Agentd.ReloadDebounce, d.log)
	if err != nil {
		return err
	}
	d.watcher = w
	d.watchDone = make(chan struct{})
	d.watchFolders()
	go d.watchLoop(w, d.watchDone)
	d.log.Info("hot reload on", "debounce", d.cfg.Agentd.ReloadDebounce, "folders", len(w.Dirs()))
	return nil
}

// stopWatching stops the watcher, if any, and waits for its loop.
func (d *Daemon) stopWatching() {
	if d.watcher == nil {
		return
	}
	_ = d.watcher.Close()
	<-d.watchDone
	d.watcher = nil
}

func (d *Daemon) watchLoop(w *watch.Watcher, done chan struct{}) {
	defer close(done)
	for ev := range w.Events() {
		d.ops.Lock()
		if ev.Rescan {
			d.rescan()
		} else {
			d.changed(ev.Path)
		}
		if d.watchFolders() {
			d.rescan() // files may have appeared before the watch began
		}
		d.ops.Unlock()
	}
}

// watchFolders makes sure every folder that holds a configured script or
// a required module is watched; for a folder that does not exist (yet), its
// nearest existing parent is watched, so that its creation is seen. It
// reports whether it began to watch a folder.
func (d *Daemon) watchFolders() bool {
	if d.watcher == nil {
		return false
	}
	var dirs []string
	for _, s := range d.cfg.Agentd.Scripts {
		switch fi, err := os.Stat(s.Path); {
		case strings.ContainsAny(s.Path, "*?["):
			if dir := filepath.Dir(s.Path); !strings.ContainsAny(dir, "*?[") {
				dirs = append(dirs, dir)
			} else if matches, _ := filepath.Glob(s.Path); len(matches) > 0 {
				for _, m := range matches {
					dirs = append(dirs, filepath.Dir(m))
				}
			}
		case err == nil && fi.IsDir():
			dirs = append(dirs, s.Path)
		default:
			dirs = append(dirs, filepath.Dir(s.Path))
		}
	}
	for _, s := range d.scripts {
		for m := range s.mods {
			dirs = append(dirs, filepath.Dir(m))
		}
	}
	dirs = append(dirs, d.packFolders()...)
	for i, dir := range dirs {
		dirs[i] = existingAncestor(dir)
	}
	slices.Sort(dirs)
	added := false
	for _, dir := range slices.Compact(dirs) {
		if d.watcher.Watching(dir) {
			continue
		}
		if err := d.watcher.Watch(dir); err != nil {
			d.log.Warn("cannot watch folder", "folder", dir, "error", err)
			continue
		}
		added = true
	}
	return added
}

// existingAncestor returns dir, or its nearest parent that exists.
func existingAncestor(dir string) string {
	for {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return dir
		}
		dir = parent
	}
}

// configured returns the script files the configuration names now.
func (d *Daemon) configured() map[string]bool {
	files, _ := d.cfg.ResolveScripts() // missing entries are reported at start and on SIGHUP
	out := make(map[string]bool, len(files))
	for _, f := range files {
		out[f] = true
	}
	return out
}

// changed looks at a path again after its changes settled. The path may
// name a script or module through another path (linked folders): each
// script and module whose real path is the same is looked at.
func (d *Daemon) changed(path string) {
	want := d.configured()
	for _, p := range sameFile(path, union(want, d.running())) {
		d.syncScript(p, want)
	}
	for _, m := range sameFile(path, toSet(d.modules())) {
		d.syncModule(m)
	}
	if d.packPath(path) {
		d.syncPacks("file changed", false)
	}
}

// sameFile returns path if it is one of known, else the paths of known
// that reach the same file as path (their real paths are equal).
func sameFile(path string, known map[string]bool) []string {
	if known[path] {
		return []string{path}
	}
	real := config.RealPath(path)
	var out []string
	for k := range known {
		if config.RealPath(k) == real {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// rescan looks at every script and module again (after lost events).
// It stops early when the daemon is closing.
func (d *Daemon) rescan() {
	want := d.configured()
	for _, p := range slices.Sorted(maps.Keys(union(want, d.running()))) {
		if d.closing() {
			return
		}
		d.syncScript(p, want)
	}
	for _, m := range d.modules() {
		if d.closing() {
			return
		}
		d.syncModule(m)
	}
	d.syncPacks("rescan", false)
}

// syncScript starts, reloads or stops the script at path so that it
// matches the file and the configuration. Only a missing file (or one no
// longer configured) stops a running script; a file that cannot be read,
// or that is empty (being written), never replaces the running version.
func (d *Daemon) syncScript(path string, want map[string]bool) {
	s := d.scripts[path]
	if !want[path] {
		if s != nil {
			d.stop(path, s, stopReason(path))
		}
		return
	}
	hash, data, err := readHash(path)
	switch {
	case errors.Is(err, fs.ErrNotExist): // removed since the configuration was resolved
		if s != nil {
			d.stop(path, s, "file removed")
		}
	case errors.Is(err, regfile.ErrChanging):
		d.log.Info("file is being written: waiting for it to settle", "script", luabind.DisplayPath(path))
	case err != nil && s != nil && s.sc != nil:
		d.log.Error("reload refused: the previous version keeps running", "script", luabind.DisplayPath(path),
			"why", "file changed", "error", luabind.DisplayPath(path)+": cannot read: "+regfile.Reason(err))
	case err != nil:
		d.load(path, hash) // fails, and says why
	case s == nil:
		d.load(path, hash)
	case s.sc == nil:
		if hash != s.tried {
			d.load(path, hash)
		}
	case hash == s.hash || hash == s.tried:
		d.log.Debug("file unchanged: nothing to reload", "script", luabind.DisplayPath(path))
	case blank(data):
		d.log.Info("file is empty: waiting for it to be written; the running version keeps running", "script", luabind.DisplayPath(path))
	default:
		d.reload(path, s, "file changed")
	}
}

// stopReason says why a known script is no longer wanted.
func stopReason(path string) string {
	if fi, err := os.Stat(path); (err != nil && errors.Is(err, fs.ErrNotExist)) || (err == nil && fi.IsDir()) {
		return "file removed"
	}
	return "no longer configured"
}

// syncModule reloads the scripts that required the module at path, if
// its content changed. An empty module is taken as being written, like a
// script.
func (d *Daemon) syncModule(path string) {
	var users []string
	for p, s := range d.scripts {
		if _, ok := s.mods[path]; ok && s.sc != nil {
			users = append(users, p)
		}
	}
	if len(users) == 0 {
		return
	}
	hash, data, err := readHash(path)
	switch {
	case errors.Is(err, regfile.ErrChanging):
		d.log.Info("file is being written: waiting for it to settle", "module", luabind.DisplayPath(path))
		return
	case err == nil && blank(data):
		d.log.Info("file is empty: waiting for it to be written; the scripts that require it keep running", "module", luabind.DisplayPath(path))
		return
	}
	slices.Sort(users)
	for _, p := range users {
		if s := d.scripts[p]; s != nil && s.sc != nil && s.mods[path] != hash {
			d.reload(p, s, "module "+luabind.DisplayPath(path)+" changed")
		}
	}
}

func (d *Daemon) modules() []string {
	var out []string
	for _, s := range d.scripts {
		for m := range s.mods {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// moduleHashes returns the content of the modules a script required, as
// it was when the script read them (a change made since is still to come).
func moduleHashes(sc *luabind.Script) map[string][32]byte { return sc.DepHashes() }

// reload reloads a running script. The content hash is read just before
// the reload reads the file, so a save of the script that comes with a
// module's (handled first) does not reload it a second time.
func (d *Daemon) reload(path string, s *script, why string) {
	hash, _, _ := readHash(path)
	res, err := s.sc.Reload(d.cfg.Agentd.ReloadDrain)
	s.tried = hash
	if err != nil {
		attrs := []any{"script", luabind.DisplayPath(path), "why", why, "error", err}
		var se *luabind.ScriptError
		if errors.As(err, &se) && se.Traceback != "" {
			attrs = append(attrs, "traceback", se.Traceback)
		}
		d.log.Error("reload refused: the previous version keeps running", attrs...)
		// a failed module change must not be retried on every event
		s.mods = moduleHashes(s.sc)
		return
	}
	s.hash = hash
	s.mods = moduleHashes(s.sc)
	d.log.Info("script reloaded", "script", luabind.DisplayPath(path), "why", why, "took", res.Took,
		"kept", res.Kept, "added", res.Added, "removed", res.Removed)
}

func (d *Daemon) stop(path string, s *script, why string) {
	delete(d.scripts, path)
	if s.sc == nil {
		return
	}
	s.sc.Stop()
	<-s.sc.Done()
	d.log.Info("script stopped", "script", luabind.DisplayPath(path), "why", why)
}

func toSet(paths []string) map[string]bool {
	out := make(map[string]bool, len(paths))
	for _, p := range paths {
		out[p] = true
	}
	return out
}
