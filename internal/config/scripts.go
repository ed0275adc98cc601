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
// be none. A path found twice is kept once, where first seen.
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
			if !seen[f] {
				seen[f] = true
				files = append(files, f)
			}
		}
	}
	return files, errs.sorted()
}

// scriptError is a reason a scripts entry does not resolve.
type scriptError string

func (e scriptError) Error() string { return string(e) }

const (
	errNotLua     scriptError = "not a .lua file"
	errNoMatch    scriptError = "glob matches no .lua file"
	errBadGlob    scriptError = "bad glob pattern"
	errNotRegular scriptError = "neither a file nor a folder"
)

func expandScript(path string) ([]string, error) {
	if strings.ContainsAny(path, "*?[") {
		return expandGlob(path)
	}
	info, err := os.Stat(path)
	switch {
	case err != nil:
		return nil, err
	case info.IsDir():
		return luaFilesIn(path)
	case !info.Mode().IsRegular():
		return nil, errNotRegular
	case !isLuaName(filepath.Base(path)):
		return nil, errNotLua
	}
	return []string{path}, nil
}

func expandGlob(pattern string) ([]string, error) {
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, errBadGlob
	}
	var files []string
	for _, m := range matches {
		if isLuaName(filepath.Base(m)) && isRegular(m) {
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
		if isLuaName(e.Name()) && isRegular(path) {
			files = append(files, path)
		}
	}
	return files, nil
}

// isLuaName reports whether a file name is a script: *.lua, not hidden.
func isLuaName(name string) bool {
	return strings.HasSuffix(name, ".lua") && len(name) > len(".lua") && !strings.HasPrefix(name, ".")
}

// isRegular reports whether path is (or links to) a regular file.
func isRegular(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular()
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
