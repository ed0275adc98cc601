//go:build unix

package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"

	"github.com/agentd/agentd/internal/regfile"
)

// A configuration file that is a named pipe or a link to /dev/zero is
// refused at once, instead of waiting for a writer or reading forever.
func TestLoadRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.toml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.toml")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, msg string }{
		{fifo, "config: read " + fifo + ": not a regular file (a named pipe)"},
		{zero, "config: read " + zero + ": not a regular file (a character device)"},
	} {
		_, err := Load(c.path)
		if !errors.Is(err, regfile.ErrNotRegular) || err.Error() != c.msg {
			t.Errorf("Load(%s) = %v, want %s", c.path, err, c.msg)
		}
	}
}

// Names that are neither folders nor regular files resolve like files:
// loading them, not resolving them, reports what is wrong. A file seen
// through two linked folders resolves once, at its first path.
func TestResolveScriptsSpecialFilesAndLinks(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, "real/a.lua", "real/b.lua", "one/c.lua")
	for _, link := range []struct{ name, target string }{
		{"links/first", "../real"},
		{"links/second", "../real"},
		{"one/zero.lua", "/dev/zero"},
		{"one/dangling.lua", "nowhere.lua"},
		{"one/c-again.lua", "c.lua"},
		{"one/loop.lua", "loop.lua"},
	} {
		p := filepath.Join(root, link.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(link.target, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "one", "pipe.lua"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo.lua"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "[agentd]\nscripts = [\"links/*/*.lua\", \"real\", \"one\", \"fifo.lua\"]\n"
	cfg, err := Decode(filepath.Join(root, "config.toml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.ResolveScripts()
	if err != nil {
		t.Fatal(err)
	}
	// real/ adds nothing: links/first reached its files first; c-again.lua
	// sorts before c.lua, so it names that file; the dangling link is a
	// missing file; a link loop, a pipe and a device are scripts that will
	// fail to load with the reason
	var want []string
	for _, f := range []string{"links/first/a.lua", "links/first/b.lua", "one/c-again.lua", "one/loop.lua", "one/pipe.lua", "one/zero.lua", "fifo.lua"} {
		want = append(want, filepath.Join(root, f))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ResolveScripts:\n got %q\nwant %q", got, want)
	}
	// a removed file keeps its real path: its folder is resolved
	if err := os.Remove(filepath.Join(root, "real", "a.lua")); err != nil {
		t.Fatal(err)
	}
	realDir, _ := filepath.EvalSymlinks(filepath.Join(root, "real"))
	if got := RealPath(filepath.Join(root, "links", "second", "a.lua")); got != filepath.Join(realDir, "a.lua") {
		t.Errorf("RealPath of a removed file = %s", got)
	}
}
