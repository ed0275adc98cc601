package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentd/agentd/internal/leakcheck"
)

var binary string // the agentd binary built for these tests

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "agentd-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "agentd")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building agentd: %v\n%s", err, out)
		os.Exit(1)
	}
	code := leakcheck.Main(m, os.Stderr)
	os.RemoveAll(dir)
	os.Exit(code)
}

// files writes name → content under a new temp dir and returns it.
func files(t *testing.T, fs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range fs {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func inProcess(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageAndVersion(t *testing.T) {
	if code, _, errs := inProcess(); code != exitUsage || !strings.Contains(errs, "usage:") {
		t.Errorf("no arguments: exit %d, stderr %q", code, errs)
	}
	if code, _, errs := inProcess("frobnicate"); code != exitUsage || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, stderr %q", code, errs)
	}
	if code, out, _ := inProcess("version"); code != exitOK || out != "agentd "+Version+"\n" {
		t.Errorf("version: exit %d, stdout %q", code, out)
	}
}

// The sample configuration at the repository root decodes and its scripts compile.
func TestCheckSampleConfig(t *testing.T) {
	code, out, errs := inProcess("check", "-c", "../../config.toml")
	if code != exitOK || !strings.Contains(out, "ok (4 scripts compiled, 2 packs checked)") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
}

func TestCheckReportsEveryConfigErrorWithLineAndKey(t *testing.T) {
	dir := files(t, map[string]string{"config.toml": `[agentd]
scripts = ["a.lua"]
Hot_Reload = true
shutdown_delay = 3
callback_limit = "5 seconds"

[[exchange]]
role = "hub"
`})
	code, _, errs := inProcess("check", "-c", filepath.Join(dir, "config.toml"))
	if code != exitUsage {
		t.Fatalf("exit %d, want %d; stderr %s", code, exitUsage, errs)
	}
	for _, want := range []string{
		"config.toml:3: agentd.Hot_Reload: unknown key (keys are case-sensitive; did you mean \"hot_reload\"?)",
		"config.toml:4: agentd.shutdown_delay: bare number 3 is not a duration",
		"config.toml:5: agentd.callback_limit:",
		"config.toml:8: exchange[1].role: unknown role \"hub\"",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

func TestCheckScriptProblems(t *testing.T) {
	dir := files(t, map[string]string{
		"config.toml": "[agentd]\nscripts = [\"good.lua\", \"bad.lua\", \"missing.lua\"]\n",
		"good.lua":    "agentd.service('good')\n",
		"bad.lua":     "local x = \nagentd.service('bad'\n",
	})
	code, _, errs := inProcess("check", "-c", filepath.Join(dir, "config.toml"))
	if code != exitFailure {
		t.Fatalf("exit %d, want %d; stderr %s", code, exitFailure, errs)
	}
	for _, want := range []string{"config.toml:2: agentd.scripts[3]", "missing.lua", "bad.lua:2: syntax error: unexpected end of file"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

// process is a running agentd.
type process struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan string
	stderr *syncBuffer
	done   chan struct{}
	code   int
}

type syncBuffer struct {
	mu chan struct{}
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.b.String()
}

func start(t *testing.T, dir string) *process {
	t.Helper()
	d := &process{t: t, lines: make(chan string, 1000), stderr: &syncBuffer{mu: make(chan struct{}, 1)}, done: make(chan struct{})}
	d.cmd = exec.Command(binary, "run", "-c", filepath.Join(dir, "config.toml"))
	d.cmd.Dir = dir
	d.cmd.Stderr = d.stderr
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			d.lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, stdout)
		err := d.cmd.Wait()
		d.code = d.cmd.ProcessState.ExitCode()
		_ = err
		close(d.done)
	}()
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		<-d.done
	})
	return d
}

// expect waits for the next stdout line and checks it. The timeout only
// keeps a broken build from hanging the test run.
func (d *process) expect(want string) {
	d.t.Helper()
	select {
	case got := <-d.lines:
		if got != want {
			d.t.Fatalf("stdout line %q, want %q\nstderr:\n%s", got, want, d.stderr.String())
		}
	case <-time.After(30 * time.Second):
		d.t.Fatalf("no stdout line (want %q)\nstderr:\n%s", want, d.stderr.String())
	}
}

func (d *process) wait() int {
	d.t.Helper()
	select {
	case <-d.done:
		return d.code
	case <-time.After(30 * time.Second):
		d.t.Fatalf("agentd did not exit\nstderr:\n%s", d.stderr.String())
		return -1
	}
}

const quickConfig = `[agentd]
scripts = ["scripts"]
shutdown_delay = "0s"
`

func TestRunScriptShutsDownCleanly(t *testing.T) {
	dir := files(t, map[string]string{
		"config.toml": quickConfig,
		"scripts/hello.lua": `local s = agentd.service("hello")
function s:init() print("hello from " .. self:serviceName()) agentd.scheduleShutdown(0) end
function s:destroy() print("bye") end
`,
	})
	d := start(t, dir)
	d.expect("hello from hello")
	d.expect("bye")
	if code := d.wait(); code != exitOK {
		t.Fatalf("exit %d, want 0\nstderr:\n%s", code, d.stderr.String())
	}
}

func TestRunWithOneBrokenScriptKeepsTheOthers(t *testing.T) {
	dir := files(t, map[string]string{
		"config.toml":        quickConfig,
		"scripts/broken.lua": "agentd.service('broken')\nlocal = 1\n",
		"scripts/fine.lua":   "local s = agentd.service('fine')\nfunction s:init() print('fine started') end\n",
	})
	d := start(t, dir)
	d.expect("fine started")
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := d.wait(); code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, d.stderr.String())
	}
	for _, want := range []string{"scripts/broken.lua:2: syntax error", "running without the scripts that failed to load"} {
		if !strings.Contains(d.stderr.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, d.stderr.String())
		}
	}
}

func TestRunFailsWhenNoScriptLoads(t *testing.T) {
	dir := files(t, map[string]string{
		"config.toml":        quickConfig,
		"scripts/broken.lua": "error('refusing to start')\n",
	})
	d := start(t, dir)
	if code := d.wait(); code != exitFailure {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", code, exitFailure, d.stderr.String())
	}
	if !strings.Contains(d.stderr.String(), "scripts/broken.lua:1: refusing to start") {
		t.Errorf("log lacks the error with file:line:\n%s", d.stderr.String())
	}
}

func TestRunConfigErrorExits2(t *testing.T) {
	dir := files(t, map[string]string{"config.toml": "[agentd]\nmailbox_size = -1\n"})
	d := start(t, dir)
	if code := d.wait(); code != exitUsage {
		t.Fatalf("exit %d, want %d", code, exitUsage)
	}
	if !strings.Contains(d.stderr.String(), "config.toml:2: agentd.mailbox_size") {
		t.Errorf("stderr: %s", d.stderr.String())
	}
}

func TestSignalsShutDownInOrder(t *testing.T) {
	dir := files(t, map[string]string{
		"config.toml": "[agentd]\nscripts = [\"scripts\"]\nshutdown_delay = \"100ms\"\n",
		"scripts/svc.lua": `local s = agentd.service("svc")
function s:init() self:subscribeShutdown(self.phase) print("ready") end
function s:phase(p) print(p == agentd.SHUTDOWN_PENDING and "pending" or "arrived") end
function s:destroy() print("destroyed") end
`,
	})
	d := start(t, dir)
	d.expect("ready")
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	d.expect("pending")
	d.expect("arrived")
	d.expect("destroyed")
	if code := d.wait(); code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, d.stderr.String())
	}
}

func TestSecondSignalExitsAtOnce(t *testing.T) {
	dir := files(t, map[string]string{
		"config.toml": "[agentd]\nscripts = [\"scripts\"]\nshutdown_delay = \"1h\"\n",
		"scripts/svc.lua": `local s = agentd.service("svc")
function s:init() self:subscribeShutdown(self.phase) print("ready") end
function s:phase(p) print("phase " .. p) end
`,
	})
	d := start(t, dir)
	d.expect("ready")
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	d.expect("phase 0")
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := d.wait(); code != exitFailure {
		t.Fatalf("exit %d, want %d", code, exitFailure)
	}
	if !strings.Contains(d.stderr.String(), "second signal: exiting at once") {
		t.Errorf("stderr: %s", d.stderr.String())
	}
}

func TestSIGHUPReconfigures(t *testing.T) {
	cfg := "[agentd]\nscripts = [%s]\nshutdown_delay = \"0s\"\n"
	dir := files(t, map[string]string{
		"config.toml": fmt.Sprintf(cfg, `"a.lua"`),
		"a.lua":       "local s = agentd.service('a')\nfunction s:init() print('a up') end\n",
		"b.lua":       "local s = agentd.service('b')\nfunction s:init() print('b up') end\nfunction s:destroy() print('b down') end\n",
	})
	d := start(t, dir)
	d.expect("a up")
	write := func(content string) {
		if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	write(fmt.Sprintf(cfg, `"a.lua", "b.lua"`))
	d.expect("b up")
	// a broken file is refused and changes nothing
	write(fmt.Sprintf(cfg, `"a.lua"`) + "mailbox_sise = 10\n")
	waitLog(t, d, "config.toml:4: agentd.mailbox_sise: unknown key")
	// a key that cannot change live is refused too
	write(fmt.Sprintf(cfg, `"a.lua"`) + "mailbox_size = 10\n")
	waitLog(t, d, "agentd.mailbox_size cannot change while agentd runs")
	// b is still running: removing it now stops it
	write(fmt.Sprintf(cfg, `"a.lua"`))
	d.expect("b down")
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := d.wait(); code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, d.stderr.String())
	}
}

// waitLog waits until the daemon's log contains s, or the daemon exits
// without having logged it; the timeout only keeps a broken build from
// hanging.
func waitLog(t *testing.T, d *process, s string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(d.stderr.String(), s) {
		select {
		case <-d.done:
			if !strings.Contains(d.stderr.String(), s) {
				t.Fatalf("agentd exited (%s) and its log lacks %q:\n%s", d.cmd.ProcessState, s, d.stderr.String())
			}
			return
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("log lacks %q:\n%s", s, d.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
