//go:build unix

package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startRaw runs `agentd run` in dir with the given standard output and
// error; where they are files (pipes), the test holds the other ends.
// d.stderr is what stderr received, when stderr is nil.
func startRaw(t *testing.T, dir string, stdout, stderr *os.File) *process {
	t.Helper()
	d := &process{t: t, stderr: &syncBuffer{mu: make(chan struct{}, 1)}, done: make(chan struct{})}
	d.cmd = exec.Command(binary, "run", "-c", filepath.Join(dir, "config.toml"))
	d.cmd.Dir = dir
	d.cmd.Stdout = stdout
	d.cmd.Stderr = d.stderr
	if stderr != nil {
		d.cmd.Stderr = stderr
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = d.cmd.Wait()
		d.code = d.cmd.ProcessState.ExitCode()
		close(d.done)
	}()
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		<-d.done
	})
	return d
}

// chatty prints and logs every 10 ms; its destroy hook says goodbye in
// the log and on standard output.
const chatty = `local s = agentd.service("chatty")
function s:init() self:startTimer(self.tick, 0.01, "tick") end
function s:tick()
  agentd.log.info("tick")
  print("tick")
  self:startTimer(self.tick, 0.01, "tick")
end
function s:destroy() agentd.log.notice("chatty destroyed") print("chatty destroyed") end
`

// agentd run | head -1: once nobody reads its standard output, agentd
// goes on without it (prints are dropped, one warning says so), and a
// SIGTERM still shuts it down in order.
func TestClosedStdoutDoesNotKill(t *testing.T) {
	dir := files(t, map[string]string{"config.toml": quickConfig, "scripts/chatty.lua": chatty})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	d := startRaw(t, dir, w, nil)
	w.Close()
	if line, err := bufio.NewReader(r).ReadString('\n'); line != "tick\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	r.Close()
	waitLog(t, d, "standard output cannot be written: what scripts print is dropped until it can")
	waitLog(t, d, `msg=tick`) // still running
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := d.wait(); code != exitOK {
		t.Fatalf("exit %d (%s), want 0\nstderr:\n%s", code, d.cmd.ProcessState, d.stderr.String())
	}
	for _, want := range []string{"chatty destroyed", "print output was lost: standard output could not be written"} {
		if !strings.Contains(d.stderr.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, d.stderr.String())
		}
	}
}

// Once nobody reads its log (standard error), agentd goes on without it,
// and a SIGTERM still shuts it down in order.
func TestClosedLogPipeDoesNotKill(t *testing.T) {
	dir := files(t, map[string]string{"config.toml": quickConfig, "scripts/chatty.lua": chatty})
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR.Close() // before agentd logs anything
	d := startRaw(t, dir, outW, errW)
	outW.Close()
	errW.Close()
	out := bufio.NewScanner(outR)
	next := func() string {
		if !out.Scan() {
			t.Fatalf("standard output ended (%v); agentd: %s", out.Err(), d.cmd.ProcessState)
		}
		return out.Text()
	}
	// each tick is logged, then printed: two ticks, and agentd has logged
	// into the closed pipe and lived on
	for range 2 {
		if line := next(); line != "tick" {
			t.Fatalf("line %q, want tick", line)
		}
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for line := next(); line != "chatty destroyed"; line = next() {
		if line != "tick" {
			t.Fatalf("line %q", line)
		}
	}
	if code := d.wait(); code != exitOK {
		t.Fatalf("exit %d (%s), want 0", code, d.cmd.ProcessState)
	}
	outR.Close()
}

// runBinary runs agentd to its end; a deadline only keeps a wedged
// agentd from hanging the tests.
func runBinary(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	var out, errb syncBuffer
	out.mu, errb.mu = make(chan struct{}, 1), make(chan struct{}, 1)
	cmd.Stdout, cmd.Stderr = &out, &errb
	_ = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("agentd %s did not finish: wedged?\nstderr:\n%s", strings.Join(args, " "), errb.String())
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// mkfifo makes a named pipe.
func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, path string) {
	t.Helper()
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

// check refuses, at once, a configuration file that is a named pipe or a
// link to /dev/zero, and scripts that are.
func TestCheckRefusesSpecialFiles(t *testing.T) {
	dir := files(t, map[string]string{
		"config.toml":      "[agentd]\nscripts = [\"scripts\"]\n",
		"scripts/good.lua": "agentd.service('good')\n",
	})
	mkfifo(t, filepath.Join(dir, "fifo.toml"))
	symlink(t, "/dev/zero", filepath.Join(dir, "zero.toml"))
	for _, c := range []struct{ file, why string }{
		{"fifo.toml", "not a regular file (a named pipe)"},
		{"zero.toml", "not a regular file (a character device)"},
	} {
		code, _, errs := runBinary(t, dir, "check", "-c", c.file)
		if want := "config: read " + c.file + ": " + c.why + "\n"; code != exitUsage || errs != want {
			t.Errorf("check -c %s: exit %d, stderr %q; want %d, %q", c.file, code, errs, exitUsage, want)
		}
	}

	mkfifo(t, filepath.Join(dir, "scripts", "p.lua"))
	mkfifo(t, filepath.Join(dir, "scripts", "fifo"))
	symlink(t, "/dev/zero", filepath.Join(dir, "scripts", "zero.lua"))
	code, _, errs := runBinary(t, dir, "check")
	want := "scripts/p.lua: cannot read: not a regular file (a named pipe)\nscripts/zero.lua: cannot read: not a regular file (a character device)\n"
	if code != exitFailure || errs != want {
		t.Errorf("check: exit %d, stderr %q; want %d, %q", code, errs, exitFailure, want)
	}
}

// Named pipes and a link to /dev/zero in a watched folder, and a
// configuration file replaced by a named pipe, wedge nothing: hot reload
// goes on, SIGHUP is refused with the reason, and SIGTERM shuts agentd
// down in order.
func TestSpecialFilesDoNotWedgeRun(t *testing.T) {
	script := func(v string) string {
		return "local s = agentd.service('a')\nfunction s:init() print('a " + v + "') end\nfunction s:destroy() print('a destroyed') end\n"
	}
	dir := files(t, map[string]string{
		"config.toml":   "[agentd]\nscripts = [\"scripts\"]\nhot_reload = true\nreload_debounce = \"20ms\"\nshutdown_delay = \"0s\"\n",
		"scripts/a.lua": script("v1"),
	})
	d := start(t, dir)
	d.expect("a v1")
	waitLog(t, d, "hot reload on")
	mkfifo(t, filepath.Join(dir, "scripts", "fifo"))
	mkfifo(t, filepath.Join(dir, "scripts", "p.lua"))
	symlink(t, "/dev/zero", filepath.Join(dir, "scripts", "zero.lua"))
	waitLog(t, d, "scripts/p.lua: cannot read: not a regular file (a named pipe)")
	waitLog(t, d, "scripts/zero.lua: cannot read: not a regular file (a character device)")
	if err := os.WriteFile(filepath.Join(dir, "scripts", "a.lua"), []byte(script("v2")), 0o644); err != nil {
		t.Fatal(err)
	}
	d.expect("a v2")

	cfg := filepath.Join(dir, "config.toml")
	if err := os.Remove(cfg); err != nil {
		t.Fatal(err)
	}
	mkfifo(t, cfg)
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, d, "SIGHUP: configuration not applied: the file has errors; the running configuration stays in force")
	waitLog(t, d, "config: read "+cfg+": not a regular file (a named pipe)")
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	d.expect("a destroyed")
	if code := d.wait(); code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, d.stderr.String())
	}
}
