package daemon

import (
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentd/agentd/internal/config"
	"github.com/agentd/agentd/internal/leakcheck"
)

func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m, os.Stderr)) }

// lines is an io.Writer whose output tests wait on, line by line.
type lines struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	cursor int
	wake   chan struct{}
}

func newLines() *lines { return &lines{wake: make(chan struct{}, 1)} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.buf.Write(p)
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return n, err
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// next returns the next complete line, waiting for it; the timeout only
// keeps a broken build from hanging.
func (l *lines) next(t testing.TB) string {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		l.mu.Lock()
		rest := l.buf.String()[l.cursor:]
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			l.cursor += i + 1
			l.mu.Unlock()
			return rest[:i]
		}
		l.mu.Unlock()
		select {
		case <-l.wake:
		case <-deadline:
			t.Fatalf("no further line after %q", l.String())
		}
	}
}

// waitFor waits until the output (from its start) contains s.
func (l *lines) waitFor(t testing.TB, s string) {
	t.Helper()
	l.waitCount(t, s, 1)
}

// waitCount waits until the output (from its start) contains s n times.
func (l *lines) waitCount(t testing.TB, s string, n int) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for strings.Count(l.String(), s) < n {
		select {
		case <-l.wake:
		case <-deadline:
			t.Fatalf("%q never appeared %d times in:\n%s", s, n, l.String())
		}
	}
}

type harness struct {
	t         testing.TB
	dir       string
	d         *Daemon
	out, logs *lines
}

// start runs a daemon on a config with hot reload on and the given
// debounce, plus extra (tables after [agentd] and [log]), and files.
func start(t testing.TB, debounce, extra string, files map[string]string) *harness {
	t.Helper()
	return startConfig(t, `["scripts"]`, debounce, extra, files, nil)
}

// startConfig is start with the given agentd.scripts array, and symbolic
// links (name → target) made after the files.
func startConfig(t testing.TB, scripts, debounce, extra string, files, links map[string]string) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), out: newLines(), logs: newLines()}
	cfg := "[agentd]\nscripts = " + scripts + "\nhot_reload = true\nreload_debounce = \"" + debounce + "\"\nreload_drain = \"1s\"\nshutdown_delay = \"0s\"\n[log]\nlevel = \"debug\"\n" + extra
	h.write("config.toml", cfg)
	os.MkdirAll(filepath.Join(h.dir, "scripts"), 0o755)
	for name, src := range files {
		h.write(name, src)
	}
	for name, target := range links {
		if err := os.MkdirAll(filepath.Dir(h.path(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, h.path(name)); err != nil {
			t.Fatal(err)
		}
	}
	c, err := config.Load(filepath.Join(h.dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	h.d, err = New(c, Options{Stdout: h.out, Stderr: h.logs})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.d.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return h
}

func (h *harness) path(name string) string { return filepath.Join(h.dir, filepath.FromSlash(name)) }

func (h *harness) write(name, src string) {
	h.t.Helper()
	p := h.path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// edit makes changes that the daemon must see as one save, however long
// they take on this machine: it holds ops, without which the daemon looks
// at no file, so whatever events the changes raise and wherever the
// debounce falls among them, the daemon only ever sees their end state.
func (h *harness) edit(change func()) {
	h.d.ops.Lock()
	defer h.d.ops.Unlock()
	change()
}

func (h *harness) expect(want ...string) {
	h.t.Helper()
	for _, w := range want {
		if got := h.out.next(h.t); got != w {
			h.t.Fatalf("line %q, want %q\nlog:\n%s", got, w, h.logs.String())
		}
	}
}

// version is a script whose init prints its version and what it restored.
func version(v int) string {
	return strings.ReplaceAll(`local s = agentd.service("counter")
function s:init(restored) print("counter vN restored " .. tostring(restored and restored.v)) end
function s:snapshot() return {v = N} end
`, "N", string(rune('0'+v)))
}

func TestEditorSaveStylesReloadOnce(t *testing.T) {
	h := start(t, "30ms", "", map[string]string{"scripts/counter.lua": version(1)})
	h.expect("counter v1 restored nil")
	p := h.path("scripts/counter.lua")

	// write in place
	h.write("scripts/counter.lua", version(2))
	h.expect("counter v2 restored 1")

	// atomic save: write a temporary file, rename it over the script
	tmp := filepath.Join(filepath.Dir(p), ".counter.lua.tmp1234")
	os.WriteFile(tmp, []byte(version(3)), 0o644)
	os.Rename(tmp, p)
	h.expect("counter v3 restored 2")

	// vim: swap file, rename the original away, create anew, drop the
	// backup (the script is missing for a moment: one save all the same)
	h.edit(func() {
		swp := filepath.Join(filepath.Dir(p), ".counter.lua.swp")
		os.WriteFile(swp, []byte("swap"), 0o644)
		os.WriteFile(filepath.Join(filepath.Dir(p), "4913"), nil, 0o644)
		os.Remove(filepath.Join(filepath.Dir(p), "4913"))
		os.Rename(p, p+"~")
		os.WriteFile(p, []byte(version(4)), 0o644)
		os.Remove(p + "~")
		os.Remove(swp)
	})
	h.expect("counter v4 restored 3")

	// emacs: lock file, backup by rename, write anew
	h.edit(func() {
		lock := filepath.Join(filepath.Dir(p), ".#counter.lua")
		os.Symlink("user@host.1234", lock)
		os.Rename(p, p+"~")
		os.WriteFile(p, []byte(version(5)), 0o644)
		os.Remove(lock)
	})
	h.expect("counter v5 restored 4")

	// cp over it
	src := filepath.Join(h.dir, "v6.lua")
	os.WriteFile(src, []byte(version(6)), 0o644)
	h.edit(func() {
		data, _ := os.ReadFile(src)
		f, _ := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0o644)
		f.Write(data)
		f.Close()
	})
	h.expect("counter v6 restored 5")

	// mv in from outside the folder
	os.WriteFile(src, []byte(version(7)), 0o644)
	os.Rename(src, p)
	h.expect("counter v7 restored 6")

	// touch: nothing to reload
	now := time.Now().Add(time.Second)
	os.Chtimes(p, now, now)
	h.logs.waitFor(t, "file unchanged: nothing to reload")
	h.write("scripts/counter.lua", version(8))
	h.expect("counter v8 restored 7")
}

func TestNewFilesStartAndDeletedFilesStop(t *testing.T) {
	h := start(t, "30ms", "", map[string]string{"scripts/a.lua": `local s = agentd.service("a")
function s:init() print("a up") end
function s:destroy() print("a down") end
`})
	h.expect("a up")
	h.write("scripts/b.lua", "local s = agentd.service('b')\nfunction s:init() print('b up') end\n")
	h.expect("b up")
	h.write("scripts/notes.txt", "not a script")
	os.Remove(h.path("scripts/a.lua"))
	h.expect("a down")
	h.logs.waitFor(t, "why=\"file removed\"")
	h.write("scripts/a.lua", "local s = agentd.service('a')\nfunction s:init() print('a up again') end\n")
	h.expect("a up again")
}

func TestModuleChangeReloadsItsUsers(t *testing.T) {
	user := func(name string) string {
		return `local greet = require("lib.greet")
local s = agentd.service("` + name + `")
function s:init() print("` + name + ` says " .. greet.hello()) end
`
	}
	h := start(t, "30ms", "", map[string]string{
		"scripts/lib/greet.lua": "return {hello = function() return 'hello' end}\n",
		"scripts/one.lua":       user("one"),
		"scripts/two.lua":       user("two"),
		"scripts/other.lua":     "local s = agentd.service('other')\nfunction s:init() print('other') end\n",
	})
	got := map[string]bool{h.out.next(t): true, h.out.next(t): true, h.out.next(t): true}
	if !got["one says hello"] || !got["two says hello"] || !got["other"] {
		t.Fatalf("start-up output %v", got)
	}
	h.write("scripts/lib/greet.lua", "return {hello = function() return 'bonjour' end}\n")
	got = map[string]bool{h.out.next(t): true, h.out.next(t): true}
	if !got["one says bonjour"] || !got["two says bonjour"] {
		t.Fatalf("after the module change: %v", got)
	}
}

func TestBrokenSaveKeepsTheOldVersion(t *testing.T) {
	h := start(t, "30ms", "", map[string]string{"scripts/counter.lua": version(1)})
	h.expect("counter v1 restored nil")
	h.write("scripts/counter.lua", "local s = agentd.service('counter'\n")
	h.logs.waitFor(t, "reload refused: the previous version keeps running")
	h.logs.waitFor(t, "scripts/counter.lua:1: syntax error")
	h.write("scripts/counter.lua", strings.Replace(version(2), "print(", "error('init fails') print(", 1))
	h.logs.waitFor(t, "init of counter: init fails")
	h.write("scripts/counter.lua", version(3))
	h.expect("counter v3 restored 1")
}

func (h *harness) reconfigure(cfg string) error {
	h.t.Helper()
	h.write("config.toml", cfg)
	c, err := config.Load(h.path("config.toml"))
	if err != nil {
		h.t.Fatal(err)
	}
	return h.d.Reconfigure(c)
}

func TestReconfigure(t *testing.T) {
	base := "[agentd]\nscripts = [\"scripts/a.lua\"]\nhot_reload = false\nshutdown_delay = \"0s\"\n[log]\nlevel = \"info\"\n"
	h := start(t, "30ms", "", map[string]string{
		"scripts/a.lua": "local s = agentd.service('a')\nfunction s:init() print('a sees ' .. tostring(agentd.config.greeting)) agentd.log.debug('a debug') end\n",
		"scripts/b.lua": "local s = agentd.service('b')\nfunction s:init() print('b up') end\nfunction s:destroy() print('b down') end\n",
	})
	h.expect("a sees nil")
	// the harness started b too (folder): narrow to a.lua only, info level
	if err := h.reconfigure(base); err != nil {
		t.Fatal(err)
	}
	// b.lua may have started before a.lua; drain its line and its stop
	for _, line := range []string{h.out.next(t), h.out.next(t)} {
		if line != "b up" && line != "b down" {
			t.Fatalf("unexpected line %q", line)
		}
	}
	// a config table change reloads the script that reads it; the log
	// level is now info, so its debug line is not logged this time
	before := strings.Count(h.logs.String(), "a debug")
	if err := h.reconfigure(base + "[config.a]\ngreeting = \"hello\"\n"); err != nil {
		t.Fatal(err)
	}
	h.expect("a sees hello")
	if after := strings.Count(h.logs.String(), "a debug"); after != before {
		t.Errorf("debug line logged at level info (%d, then %d)", before, after)
	}
	// adding b to the list starts it
	if err := h.reconfigure(strings.Replace(base, `"scripts/a.lua"`, `"scripts/a.lua", "scripts/b.lua"`, 1) + "[config.a]\ngreeting = \"hello\"\n"); err != nil {
		t.Fatal(err)
	}
	h.expect("b up")
	// what cannot change is refused, and nothing changes
	err := h.reconfigure(strings.Replace(base, "[agentd]\n", "[agentd]\nmailbox_size = 5\n", 1))
	if err == nil || !strings.Contains(err.Error(), "agentd.mailbox_size cannot change while agentd runs") {
		t.Fatalf("error %v", err)
	}
	err = h.reconfigure(strings.Replace(base, "[agentd]\n", "[agentd]\nalloc_limit = \"1MiB\"\nmemory_limit = \"1GiB\"\n", 1))
	if err == nil || !strings.Contains(err.Error(), "agentd.alloc_limit, agentd.memory_limit cannot change while agentd runs") {
		t.Fatalf("error %v", err)
	}
	if len(h.d.Runtime().LookupServiceName("b")) != 1 {
		t.Error("a refused configuration changed the running scripts")
	}
}

// alloc_limit and memory_limit reach the scripts' builtins and the
// garbage collector.
func TestLimitsFromConfig(t *testing.T) {
	prev := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.lua"), []byte(`print(pcall(string.rep, "x", 2048))`+"\n"), 0o644)
	cfg, err := config.Decode(filepath.Join(dir, "config.toml"), []byte(`[agentd]
scripts = ["a.lua"]
alloc_limit = "1KiB"
memory_limit = "3GiB"
`))
	if err != nil {
		t.Fatal(err)
	}
	out := newLines()
	d, err := New(cfg, Options{Stdout: out, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Close(context.Background())
	if got, want := out.next(t), "false\tstring.rep: the result would be 2 KiB, more than alloc_limit (1 KiB)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := debug.SetMemoryLimit(-1); got != 3<<30 {
		t.Errorf("the garbage collector's soft limit is %d, want 3 GiB", got)
	}
}

// After lost events (the watcher's queue overflowed), a rescan brings
// every script and module in line with the files.
func TestRescanCatchesUpWithLostEvents(t *testing.T) {
	h := start(t, "30ms", "", map[string]string{
		"scripts/lib/m.lua": "return {v = 1}\n",
		"scripts/a.lua":     "local m = require('lib.m')\nlocal s = agentd.service('a')\nfunction s:init() print('a v' .. m.v) end\n",
		"scripts/b.lua":     "local s = agentd.service('b')\nfunction s:init() print('b up') end\nfunction s:destroy() print('b down') end\n",
	})
	got := map[string]bool{h.out.next(t): true, h.out.next(t): true}
	if !got["a v1"] || !got["b up"] {
		t.Fatalf("start-up output %v", got)
	}
	// change everything with the watcher stopped, as if its events were lost
	h.d.stopWatching()
	h.write("scripts/lib/m.lua", "return {v = 2}\n")
	os.Remove(h.path("scripts/b.lua"))
	h.write("scripts/c.lua", "local s = agentd.service('c')\nfunction s:init() print('c up') end\n")
	h.d.ops.Lock()
	h.d.rescan()
	h.d.ops.Unlock()
	got = map[string]bool{h.out.next(t): true, h.out.next(t): true, h.out.next(t): true}
	if !got["a v2"] || !got["b down"] || !got["c up"] {
		t.Fatalf("after the rescan: %v", got)
	}
}

// A watched folder that is deleted (its scripts stop) and created again
// (its scripts start) is watched again.
func TestFolderDeletedAndRecreated(t *testing.T) {
	h := start(t, "30ms", "", map[string]string{"scripts/a.lua": "local s = agentd.service('a')\nfunction s:init() print('a up') end\nfunction s:destroy() print('a down') end\n"})
	h.expect("a up")
	if err := os.RemoveAll(h.path("scripts")); err != nil {
		t.Fatal(err)
	}
	h.expect("a down")
	h.write("scripts/b.lua", "local s = agentd.service('b')\nfunction s:init() print('b up') end\n")
	h.expect("b up")
	h.write("scripts/b.lua", "local s = agentd.service('b')\nfunction s:init() print('b up again') end\n")
	h.expect("b up again")
}

// A script saved together with a module it requires reloads once.
func TestScriptAndModuleSavedTogetherReloadOnce(t *testing.T) {
	h := start(t, "30ms", "", map[string]string{
		"scripts/lib/m.lua": "return {v = 1}\n",
		"scripts/a.lua":     "local m = require('lib.m')\nlocal s = agentd.service('a')\nfunction s:init() print('a v' .. m.v .. ' s1') end\n",
	})
	h.expect("a v1 s1")
	h.edit(func() {
		h.write("scripts/lib/m.lua", "return {v = 2}\n")
		h.write("scripts/a.lua", "local m = require('lib.m')\nlocal s = agentd.service('a')\nfunction s:init() print('a v' .. m.v .. ' s2') end\n")
	})
	h.expect("a v2 s2")
	// a later, different save shows that nothing else was queued
	h.write("scripts/a.lua", "local m = require('lib.m')\nlocal s = agentd.service('a')\nfunction s:init() print('a v' .. m.v .. ' s3') end\n")
	h.expect("a v2 s3")
}

// log.file sends the log to a file instead of standard error.
func TestLogFile(t *testing.T) {
	h := start(t, "30ms", "", map[string]string{"scripts/a.lua": "agentd.log.notice('to the file', {n = 7})\n"})
	_ = h
	dir := t.TempDir()
	cfg := "[agentd]\nscripts = [\"" + h.path("scripts/a.lua") + "\"]\n[log]\nfile = \"agentd.log\"\nformat = \"json\"\n"
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	d, err := New(c, Options{Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "agentd.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"level":"notice","msg":"to the file"`) || !strings.Contains(string(data), `"n":7`) || stderr.Len() != 0 {
		t.Errorf("log file:\n%s\nstderr:\n%s", data, stderr.String())
	}
}
