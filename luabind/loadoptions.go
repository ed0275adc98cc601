package luabind

import (
	"os"
	"path/filepath"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// LoadOptions place a script inside a larger whole, such as a script pack:
// its name, its configuration, where require looks and what it may reach.
// The zero value loads a script on its own, as Load does.
type LoadOptions struct {
	// Name names the agent (logs, the runtime) and, when Config is nil,
	// selects agentd.config through Options.Config. Default: the file
	// name without ".lua".
	Name string
	// Config, when set, returns agentd.config; it is called each time a
	// Lua state is made for the script (load and every reload), so a
	// reload sees what it returns then.
	Config func() map[string]any
	// ModuleDirs are the folders require looks in, in order. Default: the
	// script's own folder.
	ModuleDirs []string
	// Root, when set, confines require: a module file found in
	// ModuleDirs is used only when its real path (symbolic links
	// resolved) lies inside Root. A pack's scripts get the pack's folder,
	// so that no pack reads another pack's files through require.
	Root string
	// LogAttrs are added to every log record about the script, such as
	// "pack", NAME.
	LogAttrs []any
}

// LoadWith is Load with options.
func (h *Host) LoadWith(path string, opts LoadOptions) (*Script, error) {
	return h.load(path, opts)
}

// configTable returns the script's agentd.config (nil when none).
func (sc *Script) configTable() map[string]any {
	if sc.opts.Config != nil {
		return sc.opts.Config()
	}
	if sc.h.opts.Config != nil {
		return sc.h.opts.Config(sc.name)
	}
	return nil
}

// searchDirs are the folders require looks in.
func (sc *Script) searchDirs() []string {
	if len(sc.opts.ModuleDirs) > 0 {
		return sc.opts.ModuleDirs
	}
	return []string{filepath.Dir(sc.path)}
}

// allowed reports whether require may read the module file at path: with
// a Root, only when the file really lies inside it.
func (sc *Script) allowed(path string) bool {
	if sc.root == "" {
		return true
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return false
	}
	if real, err = filepath.Abs(real); err != nil {
		return false
	}
	return within(sc.root, real)
}

// within reports whether path is root or lies below it (both absolute
// and clean).
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// realRoot resolves a Root option to an absolute, link-free path.
func realRoot(root string) (string, error) {
	if root == "" {
		return "", nil
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real, nil
	} else if !os.IsNotExist(err) {
		return "", err
	}
	return abs, nil
}

// bundled returns the compiled form of the Lua module name given in
// Options.LuaModules, compiling it on first use; nil when there is none.
func (h *Host) bundled(name string) (*lua.FunctionProto, bool, error) {
	src, ok := h.opts.LuaModules[name]
	if !ok {
		return nil, false, nil
	}
	key := "\x00bundled:" + name // never a file path
	h.mu.Lock()
	c := h.protos[key]
	h.mu.Unlock()
	if c != nil {
		return c.proto, true, nil
	}
	chunkName := "[" + name + "]"
	proto, err := compileSource(src, chunkName)
	if err != nil {
		return nil, true, syntaxError(chunkName, []byte(src), err)
	}
	h.mu.Lock()
	h.protos[key] = &compiled{proto: proto}
	h.mu.Unlock()
	return proto, true, nil
}
