package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ResolveScripts expands agentd.scripts into the Lua files to load, in
// order: a file stands for itself (it must end in .lua); a folder for every
// *.lua directly inside it (sorted, not recursive, skipping names that start
// with '.'); a glob (any of *?[) for its matching .lua files, which must not
// be none. A sub-folder is never a script; any other name that exists is one
// (a named pipe, a device, a file that cannot be read: reading it, not
// resolving, says what is wrong, so that such a file is reported when it is
// loaded rather than silently skipped). A file reached by several entries or
// paths (through symbolic links) is kept once, at the first path that
// reaches it: that path names it.
//
// Every missing or unusable entry is an Error naming the config file, the
// entry's line and its key agentd.scripts[N]; all are returned together as
// Errors, along with the files that did resolve.
func (c *Config) ResolveScripts() ([]string, error) {
	var (
		files []string
		seen  = map[string]bool{}
		errs  Errors
	)
	name := c.name
	if name == "" {
		name = c.File
	}
	for i, s := range c.Agentd.Scripts {
		found, err := expandScript(s.Path)
		if err != nil {
			errs = append(errs, &Error{
				File: name,
				Line: s.Line,
				Key:  keyPath{"agentd", "scripts"}.index(i).String(),
				Msg:  scriptProblem(s, err),
				err:  err,
			})
			continue
		}
		for _, f := range found {
			if real := RealPath(f); !seen[real] {
				seen[real] = true
				files = append(files, f)
			}
		}
	}
	return files, errs.sorted()
}

// RealPath returns path with every symbolic link resolved. When path does
// not exist (any more), its folder is resolved instead and its name kept,
// so that a removed file still maps to the same real path.
func RealPath(path string) string {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return real
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(path)); err == nil {
		return filepath.Join(dir, filepath.Base(path))
	}
	return filepath.Clean(path)
}

// scriptError is a reason a scripts entry does not resolve.
type scriptError string

func (e scriptError) Error() string { return string(e) }

const (
	errNotLua  scriptError = "not a .lua file"
	errNoMatch scriptError = "glob matches no .lua file"
	errBadGlob scriptError = "bad glob pattern"
)

func expandScript(path string) ([]string, error) {
	if strings.ContainsAny(path, "*?[") {
		return expandGlob(path)
	}
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return luaFilesIn(path)
	case err != nil && errors.Is(err, fs.ErrNotExist):
		return nil, err
	case !isLuaName(filepath.Base(path)):
		if err != nil {
			return nil, err // not a script name, and not even a folder we can look at
		}
		return nil, errNotLua
	}
	// a script name: whatever is there, reading it says what is wrong
	return []string{path}, nil
}

func expandGlob(pattern string) ([]string, error) {
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, errBadGlob
	}
	var files []string
	for _, m := range matches {
		if isLuaName(filepath.Base(m)) && isScript(m) {
			files = append(files, m)
		}
	}
	if len(files) == 0 {
		return nil, errNoMatch
	}
	return files, nil
}

func luaFilesIn(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if isLuaName(e.Name()) && isScript(path) {
			files = append(files, path)
		}
	}
	return files, nil
}

// isLuaName reports whether a file name is a script: *.lua, not hidden.
func isLuaName(name string) bool {
	return strings.HasSuffix(name, ".lua") && len(name) > len(".lua") && !strings.HasPrefix(name, ".")
}

// isScript reports whether something other than a folder is at path
// (anything but nothing: a dangling link is a missing file). When what is
// there cannot be looked at (a link loop), it counts as a script, which
// will fail to load with the reason.
func isScript(path string) bool {
	fi, err := os.Stat(path)
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist)
	}
	return !fi.IsDir()
}

// scriptProblem describes why s does not resolve, with the absolute path
// when the entry was relative.
func scriptProblem(s Script, err error) string {
	where := strconv.Quote(s.Spec)
	if s.Path != s.Spec {
		where += " (" + s.Path + ")"
	}
	var reason scriptError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file or folder: " + where
	case errors.As(err, &reason):
		return reason.Error() + ": " + where
	}
	return where + ": " + err.Error()
}
