package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/agentd/agentd/internal/config"
	"github.com/agentd/agentd/internal/pack"
	"github.com/agentd/agentd/luabind"
)

// runningPack is a pack the daemon knows: running, failed or skipped.
// Only code holding ops touches it, except cfg, which agent goroutines
// read when they make a Lua state.
type runningPack struct {
	name     string
	dir      string // absolute
	inPlace  bool   // an agentd.packs entry, not installed in packs_dir
	m        *pack.Manifest
	cfg      atomic.Pointer[map[string]any] // agentd.config of its scripts
	loaded   map[string]any                 // the cfg its running scripts were made with
	scripts  map[string]*script             // by path inside the pack
	errs     map[string]string              // why a script of it failed to load, by path
	digest   [32]byte                       // of the pack's files when last started or synced
	status   pack.PackStatus
	reported string // the problem last logged, not to log it again
}

// packCandidate is a pack folder found when the daemon looks.
type packCandidate struct {
	name    string
	dir     string
	inPlace bool
	m       *pack.Manifest
	err     error // the folder is not a valid pack
	skip    string
	id      pack.FolderID // the folder m (or err) was read from
	retry   bool          // a later pass of syncPacks looks again if the folder is replaced
}

// errReplaced says that a pack's folder was replaced (by an install or a
// removal) while the daemon read or started it: what it read may mix two
// versions, so it is not the pack's error, and the pack is looked at again.
var errReplaced = errors.New("the pack's folder was replaced while it was read")

// replaced reports whether c's folder was replaced since it was read,
// when a later pass of syncPacks can look at it again.
func (c *packCandidate) replaced() bool { return c.retry && c.id.Replaced(c.dir) }

// findPacks lists the packs to run: agentd.packs entries first, then the
// packs installed in packs_dir; a name already taken is refused.
func (d *Daemon) findPacks() []*packCandidate {
	var out []*packCandidate
	byName := map[string]*packCandidate{}
	add := func(c *packCandidate) {
		if prev := byName[c.name]; prev != nil {
			c.m, c.err = nil, fmt.Errorf("a pack named %s already runs from %s", c.name, luabind.DisplayPath(prev.dir))
			c.name = c.name + "@" + c.dir // keep both in the status
		} else {
			byName[c.name] = c
		}
		out = append(out, c)
	}
	for _, e := range d.cfg.Agentd.Packs {
		c := &packCandidate{dir: e.Path, inPlace: true, name: filepath.Base(e.Path)}
		m, id, err := pack.ReadPack(e.Path)
		c.id = id
		if err != nil {
			c.err = err
		} else {
			c.m, c.name = m, m.Name
		}
		add(c)
	}
	installed, err := pack.Scan(d.cfg.Agentd.PacksDir)
	if err != nil {
		d.log.Error("cannot read the packs folder", "folder", d.cfg.Agentd.PacksDir, "error", err)
	}
	for _, in := range installed {
		add(&packCandidate{name: in.Name, dir: in.Dir, m: in.Manifest, err: in.Err, id: in.ID})
	}
	return out
}

// runnable decides which candidates can run: a valid manifest, an agentd
// range that allows this agentd, and every required pack runnable in a
// version its range allows. It returns them with dependencies first.
func (d *Daemon) runnable(cands []*packCandidate) []*packCandidate {
	version, verr := semver.NewVersion(d.opts.Version)
	byName := map[string]*packCandidate{}
	for _, c := range cands {
		if c.err == nil {
			byName[c.name] = c
		}
	}
	for _, c := range cands {
		switch {
		case c.err != nil:
		case verr != nil:
			c.skip = fmt.Sprintf("this agentd's version %q is not a semantic version", d.opts.Version)
		case !c.m.Agentd.Allows(version):
			c.skip = fmt.Sprintf("needs agentd %s; this is agentd %s", c.m.Agentd, version)
		}
	}
	// a pack whose requirement cannot run cannot run either: repeat until stable
	for changed := true; changed; {
		changed = false
		for _, c := range cands {
			if c.err != nil || c.skip != "" {
				continue
			}
			for _, name := range sortedKeys(c.m.Requires) {
				r := c.m.Requires[name]
				dep := byName[name]
				switch {
				case dep == nil:
					c.skip = fmt.Sprintf("requires pack %s %s, which is not there", name, r)
				case !r.Allows(dep.m.Version):
					c.skip = fmt.Sprintf("requires pack %s %s; %s %s is there", name, r, name, dep.m.Version)
				case dep.skip != "":
					c.skip = fmt.Sprintf("requires pack %s, which cannot run", name)
				}
				if c.skip != "" {
					changed = true
					break
				}
			}
		}
	}
	var order []*packCandidate
	seen := map[string]bool{}
	var visit func(c *packCandidate)
	visit = func(c *packCandidate) {
		if seen[c.name] || c.err != nil || c.skip != "" {
			return
		}
		seen[c.name] = true
		for _, name := range sortedKeys(c.m.Requires) {
			visit(byName[name])
		}
		order = append(order, c)
	}
	for _, c := range cands {
		visit(c)
	}
	return order
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// packPasses bounds how many times syncPacks looks at the packs when
// their folders keep being replaced while it does.
const packPasses = 4

// syncPacks makes the running packs match the folders: new packs load,
// changed ones reload (each changed script through Script.Reload, so its
// services hand their state over), packs gone or no longer runnable
// unload. With force, every running pack script reloads (a changed
// sandbox). ops is held. It returns how many packs run and how many
// could not be started.
//
// Each pack is read from one folder (pack.ReadPack), and the daemon acts
// on one version of a pack only: when an install or a removal replaces a
// pack's folder after it was read and before the daemon is done starting
// or reloading its scripts, what it did is not taken as the pack's doing
// (errors caused by the mixture are neither logged nor kept) and it looks
// at the packs again, so that the pack ends as the new version, whole, or
// gone. The last of packPasses passes takes what it finds.
func (d *Daemon) syncPacks(why string, force bool) (loaded, failed int) {
	var again map[string]bool
	for pass := 1; ; pass++ {
		last := pass == packPasses
		again = d.syncPacksPass(why, force, pass == 1, again, last)
		if len(again) == 0 || last {
			break
		}
		d.log.Debug("pack folders replaced while the daemon read them: looking again", "packs", sortedKeys(again))
	}
	for _, p := range d.packs {
		if p.status.State == pack.StateLoaded {
			loaded++
		} else if p.status.State == pack.StateFailed {
			failed++
		}
	}
	d.writeStatus()
	return loaded, failed
}

// syncPacksPass is one pass of syncPacks. force applies to every pack in
// the first pass, then to the packs of forced only (those replaced in the
// previous pass). It returns the packs whose folder was replaced while it
// acted on them, unless last.
func (d *Daemon) syncPacksPass(why string, force, first bool, forced map[string]bool, last bool) (replaced map[string]bool) {
	cands := d.findPacks()
	order := d.runnable(cands)
	for _, c := range cands {
		c.retry = !last
	}
	if d.packsFound != nil {
		d.packsFound()
	}
	found := map[string]*packCandidate{}
	for _, c := range cands {
		found[c.name] = c
	}
	// unload what is gone, moved, invalid or no longer runnable first
	for _, name := range sortedKeys(d.packs) {
		p := d.packs[name]
		c := found[name]
		switch {
		case c == nil:
			d.unloadPack(p, "removed")
			delete(d.packs, name)
		case c.dir != p.dir:
			d.unloadPack(p, "moved to "+luabind.DisplayPath(c.dir))
			delete(d.packs, name)
		case c.err != nil || c.skip != "":
			d.unloadPack(p, "no longer runnable")
		}
	}
	for _, c := range cands {
		if c.err == nil && c.skip == "" {
			continue
		}
		p := d.pack(c)
		p.status = pack.PackStatus{Dir: c.dir, State: pack.StateFailed}
		if c.m != nil {
			p.status.Version = c.m.Version.String()
		}
		if c.err != nil {
			p.status.Error = c.err.Error()
			if p.reported != p.status.Error {
				d.log.Error("pack failed to load", "pack", c.name, "folder", luabind.DisplayPath(c.dir), "error", c.err)
			}
		} else {
			p.status.State, p.status.Error = pack.StateSkipped, c.skip
			if p.reported != p.status.Error {
				d.log.Warn("pack not started", "pack", c.name, "why", c.skip)
			}
		}
		p.reported = p.status.Error
	}
	for _, c := range order {
		if d.syncPack(d.pack(c), c, why, force && (first || forced[c.name])) {
			if replaced == nil {
				replaced = map[string]bool{}
			}
			replaced[c.name] = true
		}
	}
	return replaced
}

// pack returns the runningPack of c, making it when new.
func (d *Daemon) pack(c *packCandidate) *runningPack {
	p := d.packs[c.name]
	if p == nil {
		p = &runningPack{name: c.name, dir: c.dir, inPlace: c.inPlace, scripts: map[string]*script{}, errs: map[string]string{}}
		d.packs[c.name] = p
	}
	return p
}

// syncPack starts, reloads or stops the scripts of a runnable pack. A
// pack that does not run starts whole or not at all: if one of its
// scripts fails to load, those already started stop again. In a running
// pack each script goes its own way: a new script starts, a changed one
// reloads (a failed reload keeps its previous version running), a script
// no longer listed stops. It reports whether the pack's folder was
// replaced since c was read (see syncPacks); it then stops short.
func (d *Daemon) syncPack(p *runningPack, c *packCandidate, why string, force bool) (replaced bool) {
	if c.replaced() {
		return true // do nothing with what is no longer there
	}
	cfg := pack.Merge(c.m.Config, d.tables.Load().Table(c.name))
	cfgChanged := !reflect.DeepEqual(cfg, p.loaded)
	digest, _ := pack.Digest(p.dir)
	if p.running() == 0 {
		if p.status.State == pack.StateFailed && digest == p.digest && !cfgChanged && !force {
			return c.replaced() // it failed, and nothing changed since
		}
		p.m, p.digest, p.loaded = c.m, digest, cfg
		p.cfg.Store(&cfg)
		return p.startWhole(d, c) || c.replaced()
	}
	p.m, p.digest = c.m, digest
	p.cfg.Store(&cfg)
	var problems []string
	for _, rel := range sortedKeys(p.scripts) {
		if !slices.Contains(c.m.Scripts, rel) {
			d.stopPackScript(p, rel, "no longer in "+pack.ManifestName)
		}
	}
	for _, rel := range c.m.Scripts {
		path := filepath.Join(p.dir, filepath.FromSlash(rel))
		s := p.scripts[rel]
		hash, _ := fileHash(path)
		switch {
		case s == nil || s.sc == nil:
			if s != nil && hash == s.tried && !cfgChanged && !force {
				problems = append(problems, p.errs[rel])
				continue
			}
			if err := d.loadPackScript(p, c, rel, path, hash); errors.Is(err, errReplaced) {
				return true
			} else if err != nil {
				problems = append(problems, err.Error())
			}
		case force || cfgChanged || hash != s.hash && hash != s.tried || modulesChanged(s):
			reason := why
			if cfgChanged {
				reason = "configuration changed"
			}
			if err := d.reloadPackScript(p, c, rel, s, reason); errors.Is(err, errReplaced) {
				return true
			} else if err != nil {
				problems = append(problems, err.Error())
			}
		}
	}
	p.loaded = cfg
	p.status = pack.PackStatus{Version: c.m.Version.String(), Dir: p.dir, State: pack.StateLoaded}
	if len(problems) > 0 {
		p.status.Error = "not all of this version runs: " + strings.Join(problems, "; ")
	}
	p.reported = p.status.Error
	return c.replaced()
}

// startWhole starts every script of a pack that does not run. It reports
// whether it stopped short because the pack's folder was replaced (the
// scripts it had started stop again, and the pack is tried again).
func (p *runningPack) startWhole(d *Daemon, c *packCandidate) (replaced bool) {
	p.status = pack.PackStatus{Version: p.m.Version.String(), Dir: p.dir, State: pack.StateLoaded}
	for _, rel := range p.m.Scripts {
		path := filepath.Join(p.dir, filepath.FromSlash(rel))
		hash, _ := fileHash(path)
		if err := d.loadPackScript(p, c, rel, path, hash); err != nil {
			replaced := errors.Is(err, errReplaced)
			why := "another script of the pack failed to load"
			if replaced {
				why = "the pack's folder was replaced while it started"
			}
			for _, other := range sortedKeys(p.scripts) {
				d.stopPackScript(p, other, why)
			}
			p.status.State, p.status.Error = pack.StateFailed, err.Error()
			if replaced {
				p.digest = [32]byte{} // not "failed, and nothing changed since": try again
				return true
			}
			p.reported = p.status.Error
			d.log.Error("pack failed to load", "pack", p.name, "folder", luabind.DisplayPath(p.dir), "error", err)
			return false
		}
	}
	p.reported = ""
	d.log.Info("pack started", "pack", p.name, "version", p.m.Version.String(), "folder", luabind.DisplayPath(p.dir), "scripts", len(p.m.Scripts))
	return false
}

// running counts the pack's scripts that run.
func (p *runningPack) running() int {
	n := 0
	for _, s := range p.scripts {
		if s.sc != nil {
			n++
		}
	}
	return n
}

// modulesChanged reports whether a module the script required changed.
func modulesChanged(s *script) bool {
	for m, old := range s.mods {
		if h, _ := fileHash(m); h != old {
			return true
		}
	}
	return false
}

func (d *Daemon) packScriptOptions(p *runningPack, rel string) luabind.LoadOptions {
	return pack.ScriptOptions(p.name, p.dir, rel, func() map[string]any {
		if cfg := p.cfg.Load(); cfg != nil {
			return *cfg
		}
		return nil
	})
}

// loadPackScript starts the script rel of a pack. When it fails because
// the pack's folder was replaced meanwhile, it returns errReplaced and
// neither logs nor records the failure.
func (d *Daemon) loadPackScript(p *runningPack, c *packCandidate, rel, path string, hash [32]byte) error {
	if d.packScript != nil {
		d.packScript(p.name, rel)
	}
	sc, err := d.host.LoadWith(path, d.packScriptOptions(p, rel))
	if err != nil {
		if c.replaced() {
			return errReplaced
		}
		p.scripts[rel] = &script{hash: hash, tried: hash}
		p.errs[rel] = err.Error()
		attrs := []any{"pack", p.name, "error", err}
		var se *luabind.ScriptError
		if errors.As(err, &se) && se.Traceback != "" {
			attrs = append(attrs, "traceback", se.Traceback)
		}
		d.log.Error("pack script failed to load", attrs...)
		return err
	}
	p.scripts[rel] = &script{sc: sc, hash: hash, tried: hash, mods: moduleHashes(sc)}
	delete(p.errs, rel)
	d.log.Debug("pack script started", "pack", p.name, "script", luabind.DisplayPath(path))
	return nil
}

// reloadPackScript reloads the running script rel of a pack. When the
// reload fails because the pack's folder was replaced meanwhile, it
// returns errReplaced and neither logs nor records the failure (the
// previous version keeps running, and is tried again).
func (d *Daemon) reloadPackScript(p *runningPack, c *packCandidate, rel string, s *script, why string) error {
	path := s.sc.Path()
	hash, _ := fileHash(path)
	if d.packScript != nil {
		d.packScript(p.name, rel)
	}
	res, err := s.sc.Reload(d.cfg.Agentd.ReloadDrain)
	if err != nil && c.replaced() {
		return errReplaced
	}
	s.tried = hash
	if err != nil {
		attrs := []any{"pack", p.name, "script", luabind.DisplayPath(path), "why", why, "error", err}
		var se *luabind.ScriptError
		if errors.As(err, &se) && se.Traceback != "" {
			attrs = append(attrs, "traceback", se.Traceback)
		}
		d.log.Error("reload refused: the previous version keeps running", attrs...)
		s.mods = moduleHashes(s.sc)
		return err
	}
	s.hash = hash
	s.mods = moduleHashes(s.sc)
	d.log.Info("script reloaded", "pack", p.name, "script", luabind.DisplayPath(path), "why", why, "took", res.Took,
		"kept", res.Kept, "added", res.Added, "removed", res.Removed)
	return nil
}

func (d *Daemon) stopPackScript(p *runningPack, rel, why string) {
	s := p.scripts[rel]
	delete(p.scripts, rel)
	if s == nil || s.sc == nil {
		return
	}
	s.sc.Stop()
	<-s.sc.Done()
	d.log.Info("script stopped", "pack", p.name, "script", luabind.DisplayPath(s.sc.Path()), "why", why)
}

// unloadPack stops every script of a pack.
func (d *Daemon) unloadPack(p *runningPack, why string) {
	had := false
	for _, rel := range sortedKeys(p.scripts) {
		if p.scripts[rel].sc != nil {
			had = true
		}
		d.stopPackScript(p, rel, why)
	}
	p.loaded = nil
	if had {
		d.log.Info("pack stopped", "pack", p.name, "why", why)
	}
}

// packFolders are the folders to watch for packs: packs_dir, every pack
// folder, and the folders of their scripts and modules.
func (d *Daemon) packFolders() []string {
	dirs := []string{d.cfg.Agentd.PacksDir}
	for _, e := range d.cfg.Agentd.Packs {
		dirs = append(dirs, e.Path)
	}
	for _, p := range d.packs {
		dirs = append(dirs, p.dir)
		for rel, s := range p.scripts {
			dirs = append(dirs, filepath.Dir(filepath.Join(p.dir, filepath.FromSlash(rel))))
			for m := range s.mods {
				dirs = append(dirs, filepath.Dir(m))
			}
		}
	}
	return dirs
}

// packPath reports whether a changed path concerns packs: inside
// packs_dir or a pack folder.
func (d *Daemon) packPath(path string) bool {
	for _, dir := range d.packFolders() {
		if path == dir || strings.HasPrefix(path, dir+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// writeStatus writes packs_dir/.status.json for `agentd pack list`, when
// packs_dir exists.
func (d *Daemon) writeStatus() {
	dir := d.cfg.Agentd.PacksDir
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return
	}
	st := &pack.Status{PID: os.Getpid(), Started: d.started, Updated: time.Now(), Packs: map[string]pack.PackStatus{}}
	for name, p := range d.packs {
		st.Packs[name] = p.status
	}
	if err := pack.WriteStatus(dir, st); err != nil {
		d.log.Warn("cannot write the packs status file", "error", err)
		return
	}
	d.statusDir = dir
}

// removeStatus removes the status file when the daemon stops.
func (d *Daemon) removeStatus() {
	if d.statusDir != "" {
		pack.RemoveStatus(d.statusDir, os.Getpid())
	}
}

// CheckPacks checks the packs the configuration runs: the agentd.packs
// folders and the packs installed in packs_dir. Each must have a valid
// manifest, and every Lua file must compile. It returns how many are
// valid and every problem found.
func CheckPacks(cfg *config.Config) (int, error) {
	var errs []error
	dirs := map[string]string{}
	for i, e := range cfg.Agentd.Packs {
		if fi, err := os.Stat(e.Path); err != nil || !fi.IsDir() {
			if err == nil {
				err = fs.ErrInvalid
			}
			errs = append(errs, fmt.Errorf("%s:%d: agentd.packs[%d]: %s is not a pack folder: %w", cfg.File, e.Line, i+1, e.Spec, err))
			continue
		}
		dirs[e.Path] = e.Spec
	}
	installed, err := pack.Scan(cfg.Agentd.PacksDir)
	if err != nil {
		errs = append(errs, err)
	}
	for _, in := range installed {
		dirs[in.Dir] = in.Name
	}
	ok := 0
	for _, dir := range sortedKeys(dirs) {
		if _, err := pack.LoadManifest(dir); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := pack.Compile(dir); err != nil {
			errs = append(errs, err)
			continue
		}
		ok++
	}
	return ok, errors.Join(errs...)
}
