package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// agentd runs the binary in dir and returns its exit code and output.
func agentd(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("agentd %v: %v", args, err)
	}
	return code, out.String(), errb.String()
}

// mustRun runs the binary and fails the test unless it exits 0.
func mustRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	code, out, errs := agentd(t, dir, args...)
	if code != exitOK {
		t.Fatalf("agentd %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A new user's path: init, test, build twice, install, list, upgrade, remove.
func TestPackLifecycle(t *testing.T) {
	work := t.TempDir()
	mustRun(t, work, "pack", "init", "greeter")
	for _, f := range []string{"pack.toml", "greeter.lua", "lib/greeter/greeting.lua", "test/greeter_test.lua", "README.md"} {
		if _, err := os.Stat(filepath.Join(work, "greeter", f)); err != nil {
			t.Errorf("init did not make %s: %v", f, err)
		}
	}
	if out := mustRun(t, work, "pack", "test", "greeter"); !strings.Contains(out, "ok   greeter/test/greeter_test.lua") || !strings.Contains(out, "1 passed, 0 failed") {
		t.Errorf("pack test:\n%s", out)
	}

	// Two builds, with the files' times changed in between, are byte-identical.
	mustRun(t, work, "pack", "build", "greeter")
	first := readFile(t, filepath.Join(work, "greeter-0.1.0.tar.gz"))
	later := time.Now().Add(time.Hour)
	filepath.Walk(filepath.Join(work, "greeter"), func(p string, _ os.FileInfo, _ error) error { return os.Chtimes(p, later, later) })
	mustRun(t, work, "pack", "build", "greeter", "-o", "again.tar.gz")
	if second := readFile(t, filepath.Join(work, "again.tar.gz")); !bytes.Equal(first, second) {
		t.Fatalf("two builds differ (%d and %d bytes)", len(first), len(second))
	}

	packs := filepath.Join(work, "packs")
	out := mustRun(t, work, "pack", "install", "greeter-0.1.0.tar.gz", "--packs-dir", packs)
	if !strings.Contains(out, "installed greeter 0.1.0") || !strings.Contains(out, "1 passed, 0 failed") {
		t.Errorf("install:\n%s", out)
	}
	if out := mustRun(t, work, "pack", "list", "--packs-dir", packs); !strings.Contains(out, "greeter  0.1.0    greeter publishes a greeting") {
		t.Errorf("list:\n%s", out)
	}

	// The same version again is refused; a newer one replaces it.
	if code, _, errs := agentd(t, work, "pack", "install", "greeter-0.1.0.tar.gz", "--packs-dir", packs); code != exitFailure ||
		!strings.Contains(errs, "greeter 0.1.0 is installed; 0.1.0 is not newer (use --upgrade") {
		t.Errorf("reinstall: exit %d, stderr %s", code, errs)
	}
	manifest := filepath.Join(work, "greeter", "pack.toml")
	os.WriteFile(manifest, bytes.Replace(readFile(t, manifest), []byte(`version = "0.1.0"`), []byte(`version = "0.2.0"`), 1), 0o644)
	mustRun(t, work, "pack", "build", "greeter")
	if out := mustRun(t, work, "pack", "install", "greeter-0.2.0.tar.gz", "--packs-dir", packs); !strings.Contains(out, "replaced greeter 0.1.0 with 0.2.0") {
		t.Errorf("upgrade:\n%s", out)
	}
	// Going back needs --upgrade.
	mustRun(t, work, "pack", "install", "greeter-0.1.0.tar.gz", "--packs-dir", packs, "--upgrade", "--no-test")
	if out := mustRun(t, work, "pack", "list", "--packs-dir", packs); !strings.Contains(out, "greeter  0.1.0") {
		t.Errorf("list after downgrade:\n%s", out)
	}
	entries, _ := os.ReadDir(packs)
	for _, e := range entries {
		if e.Name() != "greeter" && e.Name() != ".lock" {
			t.Errorf("packs folder holds %s after installs", e.Name())
		}
	}

	mustRun(t, work, "pack", "remove", "greeter", "--packs-dir", packs)
	if out := mustRun(t, work, "pack", "list", "--packs-dir", packs); !strings.Contains(out, "no packs installed") {
		t.Errorf("list after remove:\n%s", out)
	}
	if code, _, errs := agentd(t, work, "pack", "remove", "greeter", "--packs-dir", packs); code != exitFailure || !strings.Contains(errs, "greeter is not installed") {
		t.Errorf("second remove: exit %d, stderr %s", code, errs)
	}
}

// A failing test exits 1 and names the file and line; such a pack is not installed.
func TestPackTestFailureNamesTheLine(t *testing.T) {
	work := t.TempDir()
	mustRun(t, work, "pack", "init", "broken")
	test := filepath.Join(work, "broken", "test", "broken_test.lua")
	src := strings.Replace(string(readFile(t, test)), `test.equal(content.text, agentd.config.greeting .. ", world!")`, `test.equal(content.count, 99, "count")`, 1)
	os.WriteFile(test, []byte(src), 0o644)
	line := 1 + strings.Count(src[:strings.Index(src, "content.count, 99")], "\n")

	code, out, _ := agentd(t, work, "pack", "test", "broken")
	want := "broken/test/broken_test.lua:" + strconv.Itoa(line) + ": count: got 1, want 99"
	if code != exitFailure || !strings.Contains(out, "FAIL broken/test/broken_test.lua") || !strings.Contains(out, want) {
		t.Errorf("exit %d, want %d and %q in:\n%s", code, exitFailure, want, out)
	}

	packs := filepath.Join(work, "packs")
	code, out, errs := agentd(t, work, "pack", "install", "broken", "--packs-dir", packs)
	if code != exitFailure || !strings.Contains(errs, "broken 0.1.0 not installed: its tests failed") || !strings.Contains(out, ": count: got 1, want 99") {
		t.Errorf("install of a failing pack: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(packs, "broken")); err == nil {
		t.Errorf("a pack whose tests fail was installed")
	}
	// --no-test installs it anyway
	mustRun(t, work, "pack", "install", "broken", "--packs-dir", packs, "--no-test")
}

func TestPackUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"pack"}, "usage:"},
		{[]string{"pack", "frob"}, `unknown command "frob"`},
		{[]string{"pack", "test"}, "want 1 argument(s), got 0"},
		{[]string{"pack", "list", "extra"}, "want 0 argument(s), got 1"},
		{[]string{"pack", "test", "x", "--upgrade"}, "-upgrade does not apply to test"},
		{[]string{"pack", "list", "--nope"}, "flag provided but not defined: -nope"},
	} {
		if code, _, errs := inProcess(tc.args...); code != exitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errs, tc.want)
		}
	}
}

// --packs-dir defaults to packs_dir of -c, else of ./config.toml, else ./packs.
func TestPackPacksDirDefault(t *testing.T) {
	work := files(t, map[string]string{
		"conf/config.toml": "[agentd]\npacks_dir = \"../installed\"\n",
		"config.toml":      "[agentd]\npacks_dir = \"local-packs\"\n",
	})
	mustRun(t, work, "pack", "init", "greeter")
	mustRun(t, work, "pack", "install", "greeter", "-c", "conf/config.toml", "--no-test")
	if _, err := os.Stat(filepath.Join(work, "installed", "greeter", "pack.toml")); err != nil {
		t.Errorf("-c: %v", err)
	}
	mustRun(t, work, "pack", "install", "greeter", "--no-test")
	if _, err := os.Stat(filepath.Join(work, "local-packs", "greeter", "pack.toml")); err != nil {
		t.Errorf("./config.toml: %v", err)
	}
	os.Remove(filepath.Join(work, "config.toml"))
	mustRun(t, work, "pack", "install", "greeter", "--no-test")
	if _, err := os.Stat(filepath.Join(work, "packs", "greeter", "pack.toml")); err != nil {
		t.Errorf("./packs: %v", err)
	}
	if code, _, errs := agentd(t, work, "pack", "list", "-c", "missing.toml"); code != exitUsage || !strings.Contains(errs, "missing.toml") {
		t.Errorf("missing -c: exit %d, stderr %s", code, errs)
	}
}

// With a daemon running on the packs folder, list shows what it does
// with each pack; an install is picked up while it runs.
func TestPackListWithRunningDaemon(t *testing.T) {
	work := files(t, map[string]string{
		"config.toml":            "[agentd]\nhot_reload = true\nreload_debounce = \"20ms\"\nshutdown_delay = \"0s\"\n",
		"packs/future/pack.toml": "name = \"future\"\nversion = \"1.0.0\"\nagentd = \">=9.0.0\"\nscripts = [\"main.lua\"]\n",
		"packs/future/main.lua":  "print('future')\n",
	})
	mustRun(t, work, "pack", "init", "greeter")
	src := filepath.Join(work, "greeter", "greeter.lua")
	os.WriteFile(src, []byte(string(readFile(t, src))+"\nfunction svc:destroy() print(\"greeter stops\") end\nprint(\"greeter loaded\")\n"), 0o644)

	d := start(t, work)
	waitFile(t, filepath.Join(work, "packs", ".status.json"))
	out := mustRun(t, work, "pack", "list")
	if !strings.Contains(out, "future  1.0.0    skipped") || !strings.Contains(out, "future: needs agentd >=9.0.0; this is agentd "+Version) {
		t.Errorf("list with a daemon:\n%s", out)
	}
	mustRun(t, work, "pack", "install", "greeter")
	d.expect("greeter loaded")
	for !strings.Contains(mustRun(t, work, "pack", "list"), "greeter  0.1.0    loaded") {
		select {
		case <-d.done:
			t.Fatalf("agentd exited:\n%s", d.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	mustRun(t, work, "pack", "remove", "greeter")
	d.expect("greeter stops")
	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.wait(); code != exitOK {
		t.Fatalf("exit %d\n%s", code, d.stderr.String())
	}
	if _, err := os.Stat(filepath.Join(work, "packs", ".status.json")); err == nil {
		t.Errorf("the status file outlived the daemon")
	}
	if out := mustRun(t, work, "pack", "list"); !strings.Contains(out, "no agentd runs on ") {
		t.Errorf("list after the daemon stopped:\n%s", out)
	}
}

// waitFile waits for a file to appear; the deadline only keeps a broken
// build from hanging.
func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
