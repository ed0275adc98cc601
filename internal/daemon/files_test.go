//go:build unix

package daemon

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/agentd/agentd/internal/regfile"
	"github.com/agentd/agentd/luabind"
)

// Named pipes (of any name) and a link to /dev/zero in a watched folder
// are never opened for a blocking read: they do not wedge the watcher,
// the ones named like scripts fail to load with the reason, and the
// daemon closes (the harness's cleanup) without waiting on them.
func TestSpecialFilesDoNotWedgeTheWatcher(t *testing.T) {
	h := start(t, "30ms", "", map[string]string{
		"scripts/lib/m.lua": "return {v = 1}\n",
		"scripts/a.lua":     "local m = require('lib.m')\nlocal s = agentd.service('a')\nfunction s:init() print('a v' .. m.v) end\n",
	})
	h.expect("a v1")
	for _, name := range []string{"scripts/fifo", "scripts/p.lua", "scripts/lib/pipe.lua"} {
		if err := syscall.Mkfifo(h.path(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/dev/zero", h.path("scripts/zero.lua")); err != nil {
		t.Fatal(err)
	}
	h.logs.waitFor(t, "scripts/p.lua: cannot read: not a regular file (a named pipe)")
	h.logs.waitFor(t, "scripts/zero.lua: cannot read: not a regular file (a character device)")
	// the watcher still works: a module change reloads its user, a save
	// of the script reloads it
	h.write("scripts/lib/m.lua", "return {v = 2}\n")
	h.expect("a v2")
	h.write("scripts/a.lua", "local m = require('lib.m')\nlocal s = agentd.service('a')\nfunction s:init() print('a saved, v' .. m.v) end\n")
	h.expect("a saved, v2")
	// as does a rescan, which looks at every file again
	h.d.ops.Lock()
	h.d.rescan()
	h.d.ops.Unlock()
	if n := strings.Count(h.logs.String(), "scripts/p.lua: cannot read"); n < 2 {
		t.Errorf("the rescan did not look at p.lua again (%d failures logged)", n)
	}
}

// A script that cannot be read (a link loop or a pipe in its place, a file
// over the size limit, no read permission: the one form root is immune to) is not a deleted one: the reload is
// refused, the running version keeps its services and state, and the next
// good save reloads it. Only a missing file stops a script.
func TestUnreadableScriptKeepsRunning(t *testing.T) {
	h := start(t, "30ms", "", map[string]string{"scripts/counter.lua": version(1)})
	h.expect("counter v1 restored nil")
	p := h.path("scripts/counter.lua")
	replace := func(make func() error) func() {
		return func() {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := make(); err != nil {
				t.Fatal(err)
			}
		}
	}
	forms := []struct {
		name   string
		break_ func()
		reason string
	}{
		{"a link to itself", replace(func() error { return os.Symlink("counter.lua", p) }), "too many levels of symbolic links"},
		{"a file too large", replace(func() error { return os.WriteFile(p, bytes.Repeat([]byte("-"), regfile.MaxSize+1), 0o644) }), "larger than 4 MiB"},
		{"no read permission", func() {
			if err := os.Chmod(p, 0); err != nil {
				t.Fatal(err)
			}
		}, "permission denied"},
		{"a named pipe", replace(func() error { return syscall.Mkfifo(p, 0o644) }), "not a regular file (a named pipe)"},
	}
	v := 1 // the running version
	for _, f := range forms {
		if f.reason == "permission denied" && os.Geteuid() == 0 {
			t.Logf("skipping %q: root reads files without permission (the other forms cover it)", f.name)
			continue
		}
		h.edit(f.break_)
		h.logs.waitFor(t, "scripts/counter.lua: cannot read: "+f.reason)
		if n := len(h.d.Runtime().LookupServiceName("counter")); n != 1 {
			t.Fatalf("%s: %d counter services, want the running one", f.name, n)
		}
		v++
		h.edit(replace(func() error { return os.WriteFile(p, []byte(version(v)), 0o644) }))
		h.expect(fmt.Sprintf("counter v%d restored %d", v, v-1))
	}
	if strings.Contains(h.logs.String(), "script stopped") {
		t.Errorf("a script that could not be read was stopped:\n%s", h.logs.String())
	}
	// a missing file stops it
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	h.logs.waitFor(t, `why="file removed"`)
}

// A slow save in place (truncate, a pause longer than the debounce, then
// write) never runs the empty file: the running version keeps its
// services and state until the content arrives. The same for a module.
func TestSlowSaveInPlaceKeepsTheRunningVersion(t *testing.T) {
	h := start(t, "30ms", "", map[string]string{
		"scripts/counter.lua": version(1),
		"scripts/lib/m.lua":   "return {v = 1}\n",
		"scripts/user.lua":    "local m = require('lib.m')\nlocal s = agentd.service('user')\nfunction s:init() print('user sees ' .. m.v) end\n",
	})
	got := map[string]bool{h.out.next(t): true, h.out.next(t): true}
	if !got["counter v1 restored nil"] || !got["user sees 1"] {
		t.Fatalf("start-up output %v", got)
	}
	p := h.path("scripts/counter.lua")
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	h.logs.waitFor(t, `msg="file is empty: waiting for it to be written; the running version keeps running" script=`)
	// white space only counts as empty too
	if err := os.WriteFile(p, []byte("\n  \n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.logs.waitCount(t, "file is empty: waiting for it to be written; the running version keeps running", 2)
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(version(2)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	h.expect("counter v2 restored 1")

	if err := os.Truncate(h.path("scripts/lib/m.lua"), 0); err != nil {
		t.Fatal(err)
	}
	h.logs.waitFor(t, "the scripts that require it keep running")
	h.write("scripts/lib/m.lua", "return {v = 2}\n")
	h.expect("user sees 2")
}

// Two linked folders reach the same files: each file runs once, named by
// the first path that reaches it (links/two, the first entry), although
// the watcher reports it under another (links/one, the folder it watches
// first); a save through any path reloads it once, and removing it stops
// it.
func TestLinkedFoldersLoadEachFileOnce(t *testing.T) {
	a := func(v int) string {
		return fmt.Sprintf("local s = agentd.service('a')\nfunction s:init(r) print('a v%d restored ' .. tostring(r)) end\nfunction s:snapshot() return %d end\nfunction s:destroy() print('a down') end\n", v, v)
	}
	h := startConfig(t, `["links/two/*.lua", "links/one/*.lua"]`, "30ms", "",
		map[string]string{"real/a.lua": a(1)},
		map[string]string{"links/one": "../real", "links/two": "../real"})
	h.expect("a v1 restored nil")
	if n := len(h.d.Runtime().LookupServiceName("a")); n != 1 {
		t.Fatalf("%d services a, want 1", n)
	}
	h.logs.waitFor(t, `msg="script started" script=`+luabind.DisplayPath(h.path("links/two/a.lua")))
	for i, via := range []string{"links/one/a.lua", "real/a.lua", "links/two/a.lua"} {
		h.write(via, a(i+2))
		h.expect(fmt.Sprintf("a v%d restored %d", i+2, i+1))
	}
	if err := os.Remove(h.path("links/one/a.lua")); err != nil {
		t.Fatal(err)
	}
	h.expect("a down")
	h.logs.waitFor(t, `why="file removed"`)
	if n := strings.Count(h.out.String(), "a down"); n != 1 {
		t.Errorf("%d stops, want 1", n)
	}
}
