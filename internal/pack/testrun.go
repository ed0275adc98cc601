package pack

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/agentd/agentd/internal/logging"
	"github.com/agentd/agentd/luabind"
	"github.com/agentd/agentd/runtime"
)

//go:embed testlib.lua
var testLib string

// TestModule is the module name a test script requires for its assertions.
const TestModule = "agentd.test"

// testCallbackLimit is the callback limit of the test runtime.
const testCallbackLimit = 5 * time.Second

// TestOptions say how RunTests runs a pack's tests.
type TestOptions struct {
	// Verbose keeps what scripts print and log (from debug up) in each
	// TestResult's Output, passed or not; otherwise Output holds it only
	// for a failed test.
	Verbose bool
	// Timeout, when set, replaces the [test] timeout of the manifest.
	Timeout time.Duration
}

// A TestResult is the outcome of one test script.
type TestResult struct {
	File     string        // the test script, as messages show it
	Passed   bool          //
	Problems []string      // why it failed, each with file:line when known
	Took     time.Duration //
	Output   string        // what the scripts printed and logged (see TestOptions.Verbose)
}

// TestFiles returns the test scripts of the pack folder dir: the files
// test/*_test.lua, sorted.
func TestFiles(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "test", "*_test.lua"))
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	return files, nil
}

// RunTests runs every test script of the pack in the folder dir, each in
// a runtime of its own: the pack's scripts start (named and configured as
// the daemon would, with the [test] config merged over [config]), then the
// test script starts beside them. A test passes when it calls
// test.done() before the timeout and nothing failed: no script failed to
// load, no callback raised an error. The runtime has the default sandbox
// and no exchange. An error means the tests could not be run at all
// (manifest, compile errors, no test files).
func RunTests(dir string, opts TestOptions) ([]TestResult, error) {
	m, err := LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	if err := compileAll(dir); err != nil {
		return nil, err
	}
	files, err := TestFiles(dir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("pack: %s has no tests (test/*_test.lua)", luabind.DisplayPath(dir))
	}
	timeout := m.Test.Timeout
	if opts.Timeout > 0 {
		timeout = opts.Timeout
	}
	results := make([]TestResult, 0, len(files))
	for _, f := range files {
		results = append(results, runTest(dir, m, f, timeout, opts.Verbose))
	}
	return results, nil
}

// runTest runs one test script.
func runTest(dir string, m *Manifest, file string, timeout time.Duration, verbose bool) TestResult {
	start := time.Now()
	res := TestResult{File: luabind.DisplayPath(file)}
	var out bytes.Buffer
	var outMu sync.Mutex
	w := &lockedWriter{w: &out, mu: &outMu}
	var level slog.Level = logging.LevelError
	if verbose {
		level = logging.LevelDebug
	}
	watch := &failureWatch{wake: make(chan struct{}, 1)}
	logger := slog.New(&teeHandler{
		out:   logging.New(w, "text", level).Handler(),
		watch: watch,
	})
	rt := runtime.New(runtime.Options{Logger: logger, ShutdownDelay: -1})
	done := make(chan struct{})
	var once sync.Once
	host := luabind.NewHost(rt, luabind.Options{
		Logger:        logger,
		Stdout:        w,
		CallbackLimit: testCallbackLimit,
		Config:        func(string) map[string]any { return nil },
		Modules:       map[string]any{TestModule + ".done": func() { once.Do(func() { close(done) }) }},
		LuaModules:    map[string]string{TestModule: testLib},
	})
	cfg := merge(m.Config, m.Test.Config)
	fail := func(format string, args ...any) { res.Problems = append(res.Problems, fmt.Sprintf(format, args...)) }

	loaded := true
	for _, s := range m.Scripts {
		path := filepath.Join(dir, filepath.FromSlash(s))
		if _, err := host.LoadWith(path, ScriptOptions(m.Name, dir, s, func() map[string]any { return cfg })); err != nil {
			fail("%v", err)
			loaded = false
		}
	}
	if loaded {
		rel, _ := filepath.Rel(dir, file)
		if _, err := host.LoadWith(file, ScriptOptions(m.Name, dir, filepath.ToSlash(rel), func() map[string]any { return cfg })); err != nil {
			fail("%v", err)
			loaded = false
		}
	}
	if loaded {
		deadline := time.NewTimer(timeout)
	wait:
		for {
			select {
			case <-done:
				break wait
			case <-rt.Done():
				fail("%s: the runtime shut down before test.done() (a script called agentd.scheduleShutdown?)", res.File)
				break wait
			case <-deadline.C:
				fail("%s: test.done() not called within %v", res.File, timeout)
				break wait
			case <-watch.wake:
				if rt.Stats().CallbackErrors > 0 {
					break wait
				}
			}
		}
		deadline.Stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if err := rt.Shutdown(ctx); err != nil {
		fail("%v", err)
	}
	cancel()
	if n := rt.Stats().CallbackErrors; n > 0 {
		problems := watch.problems()
		if len(problems) == 0 {
			problems = []string{fmt.Sprintf("%d callbacks failed", n)}
		}
		res.Problems = append(problems, res.Problems...)
	}
	res.Passed = len(res.Problems) == 0
	res.Took = time.Since(start)
	if verbose || !res.Passed {
		outMu.Lock()
		res.Output = out.String()
		outMu.Unlock()
	}
	return res
}

// ScriptOptions are the load options of the script rel (slash-separated,
// inside the pack folder dir) of the pack name: the agent is named
// NAME/SCRIPT (the path without ".lua"), require looks in the pack's lib/
// folder and then in the script's own folder, and never outside the pack;
// its log records carry pack=NAME.
func ScriptOptions(name, dir, rel string, cfg func() map[string]any) luabind.LoadOptions {
	path := filepath.Join(dir, filepath.FromSlash(rel))
	return luabind.LoadOptions{
		Name:       name + "/" + strings.TrimSuffix(rel, ".lua"),
		Config:     cfg,
		ModuleDirs: []string{filepath.Join(dir, "lib"), filepath.Dir(path)},
		Root:       dir,
		LogAttrs:   []any{"pack", name},
	}
}

// merge returns base with over's keys put on top, key by key: a key of
// over replaces base's, tables are not merged deeper.
func merge(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// Merge is agentd.config of a pack's scripts: the manifest's [config]
// with the host's [config.NAME] table over it, key by key.
func Merge(defaults, host map[string]any) map[string]any { return merge(defaults, host) }

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// failureWatch collects the error records of a test run.
type failureWatch struct {
	mu   sync.Mutex
	list []string
	wake chan struct{}
}

func (f *failureWatch) add(s string) {
	f.mu.Lock()
	f.list = append(f.list, s)
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *failureWatch) problems() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.list)
}

// teeHandler passes records to out and turns error records into
// problems: "FILE:LINE: message (callback ..., service ...)".
type teeHandler struct {
	out   slog.Handler
	watch *failureWatch
	attrs []slog.Attr
}

func (h *teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= logging.LevelError || h.out.Enabled(ctx, l)
}

func (h *teeHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= logging.LevelError {
		h.watch.add(describeRecord(r, h.attrs))
	}
	if h.out.Enabled(ctx, r.Level) {
		return h.out.Handle(ctx, r)
	}
	return nil
}

func (h *teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &teeHandler{out: h.out.WithAttrs(as), watch: h.watch, attrs: append(slices.Clip(h.attrs), as...)}
}

func (h *teeHandler) WithGroup(name string) slog.Handler {
	return &teeHandler{out: h.out.WithGroup(name), watch: h.watch, attrs: h.attrs}
}

// positioned matches a message that starts with its own "FILE:LINE: ".
var positioned = regexp.MustCompile(`^\S[^\n]*?:\d+: `)

// describeRecord renders an error record of luabind as a problem.
func describeRecord(r slog.Record, attrs []slog.Attr) string {
	get := map[string]string{}
	for _, a := range attrs {
		get[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		get[a.Key] = a.Value.String()
		return true
	})
	msg := r.Message
	if e := get["error"]; e != "" {
		msg = e
	}
	where := get["line"]
	if where == "" {
		where = get["script"]
	}
	if where != "" && !positioned.MatchString(msg) {
		msg = where + ": " + msg
	}
	var ctx []string
	if c := get["callback"]; c != "" {
		ctx = append(ctx, "in "+c)
	}
	if s := get["service"]; s != "" {
		ctx = append(ctx, "of service "+s)
	}
	if len(ctx) > 0 {
		msg += " (" + strings.Join(ctx, " ") + ")"
	}
	return msg
}

// compileAll compiles every Lua file of the pack folder dir and returns
// every syntax error, each with file:line.
func compileAll(dir string) error {
	files, err := collect(dir)
	if err != nil {
		return err
	}
	rt := runtime.New(runtime.Options{Logger: logging.Discard()})
	host := luabind.NewHost(rt, luabind.Options{})
	var errs []string
	for _, f := range files {
		if !strings.HasSuffix(f.rel, ".lua") {
			continue
		}
		if err := host.Compile(f.path); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return &CompileError{Errors: errs}
	}
	return nil
}

// A CompileError lists the Lua files of a pack that do not compile.
type CompileError struct {
	Errors []string // each "FILE:LINE: message"
}

func (e *CompileError) Error() string { return strings.Join(e.Errors, "\n") }
