package luabind

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/agentd/agentd/internal/logging"
	"github.com/agentd/agentd/runtime"
)

// A conformance case is a txtar-style file in spec/cases: a header of
// directives, then files introduced by "-- name --" lines.
//
// Directives (one per line in the header, "key: value"):
//
//	load: a.lua b.lua   scripts to start, in order (default: every .lua file
//	                    not under a folder, in archive order)
//	run: 10s            fake time to let pass before the orderly shutdown (default 1m)
//	limit: 50ms         callback_limit (default none); such cases run in real time
//	alloc_limit: 4096   alloc_limit in bytes (default: luabind's default, 64 MiB)
//	sort: true          compare stdout lines sorted (for output of concurrent agents)
//	shutdown: none      do not shut down: the case ends by itself (scheduleShutdown)
//	config.NAME.KEY: V  a string entry of agentd.config for script NAME
//
// Sections with a special meaning:
//
//	-- stdout --        exactly what the scripts print
//	-- log --           lines that must each appear in the log output
//	-- load-error --    lines that must each appear in the error of loading the scripts
type conformanceCase struct {
	name       string
	directives map[string]string
	files      map[string]string
	order      []string
}

func parseCase(name string, data []byte) (*conformanceCase, error) {
	c := &conformanceCase{name: name, directives: map[string]string{}, files: map[string]string{}}
	cur := ""
	var header strings.Builder
	var body strings.Builder
	flush := func() {
		if cur != "" {
			c.files[cur] = body.String()
			c.order = append(c.order, cur)
		}
		body.Reset()
	}
	for _, line := range strings.SplitAfter(string(data), "\n") {
		trimmed := strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			flush()
			cur = strings.TrimSpace(trimmed[3 : len(trimmed)-3])
			continue
		}
		if cur == "" {
			header.WriteString(line)
		} else {
			body.WriteString(line)
		}
	}
	flush()
	for _, line := range strings.Split(header.String(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%s: header line %q is not key: value", name, line)
		}
		c.directives[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return c, nil
}

func (c *conformanceCase) scripts() []string {
	if l := c.directives["load"]; l != "" {
		return strings.Fields(l)
	}
	var out []string
	for _, f := range c.order {
		if strings.HasSuffix(f, ".lua") && !strings.Contains(f, "/") {
			out = append(out, f)
		}
	}
	return out
}

func TestConformance(t *testing.T) {
	paths, err := filepath.Glob("../spec/cases/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no conformance cases found in spec/cases")
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		c, err := parseCase(filepath.Base(p), data)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(strings.TrimSuffix(c.name, ".txtar"), func(t *testing.T) {
			if c.directives["limit"] != "" {
				c.run(t) // a runaway loop never blocks, so fake time would not move
				return
			}
			synctest.Test(t, c.run)
		})
	}
}

func (c *conformanceCase) run(t *testing.T) {
	dir := t.TempDir()
	for name, body := range c.files {
		if strings.HasPrefix(name, "stdout") || name == "log" || name == "load-error" {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out, logs syncBuffer
	rt := runtime.New(runtime.Options{
		Logger:          logging.New(&logs, "text", logging.LevelDebug),
		ProcessIdentity: "host:1",
		ShutdownDelay:   time.Second,
	})
	opts := Options{Stdout: &out, Config: c.config}
	if l := c.directives["limit"]; l != "" {
		d, err := time.ParseDuration(l)
		if err != nil {
			t.Fatal(err)
		}
		opts.CallbackLimit = d
	}
	if a := c.directives["alloc_limit"]; a != "" {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		opts.AllocLimit = n
	}
	h := NewHost(rt, opts)
	var loadErrs []string
	for _, s := range c.scripts() {
		if _, err := h.Load(filepath.Join(dir, s)); err != nil {
			loadErrs = append(loadErrs, strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""))
		}
	}
	run := time.Minute
	if r := c.directives["run"]; r != "" {
		d, err := time.ParseDuration(r)
		if err != nil {
			t.Fatal(err)
		}
		run = d
	}
	if c.directives["limit"] != "" {
		c.waitReal(t, &out, run)
	} else {
		time.Sleep(run)
	}
	if c.directives["shutdown"] != "none" {
		if err := rt.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	} else {
		<-rt.Done()
	}
	c.check(t, out.String(), logs.String(), strings.Join(loadErrs, "\n"))
}

// waitReal waits, in real time, until stdout holds as many lines as the
// case expects or run has passed.
func (c *conformanceCase) waitReal(t *testing.T, out *syncBuffer, run time.Duration) {
	want := strings.Count(c.files["stdout"], "\n")
	deadline := time.Now().Add(run)
	for time.Now().Before(deadline) && strings.Count(out.String(), "\n") < want {
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *conformanceCase) config(name string) map[string]any {
	prefix := "config." + name + "."
	var m map[string]any
	for k, v := range c.directives {
		if key, ok := strings.CutPrefix(k, prefix); ok {
			if m == nil {
				m = map[string]any{}
			}
			m[key] = v
		}
	}
	return m
}

func (c *conformanceCase) check(t *testing.T, out, logs, loadErr string) {
	t.Helper()
	want, got := c.files["stdout"], out
	if c.directives["sort"] == "true" {
		want, got = sortedLines(want), sortedLines(got)
	}
	if got != want {
		t.Errorf("stdout differs\n--- got ---\n%s--- want ---\n%s--- log ---\n%s", got, want, logs)
	}
	for _, line := range nonEmptyLines(c.files["log"]) {
		if !strings.Contains(logs, line) {
			t.Errorf("log lacks %q\n--- log ---\n%s", line, logs)
		}
	}
	wantErr := nonEmptyLines(c.files["load-error"])
	for _, line := range wantErr {
		if !strings.Contains(loadErr, line) {
			t.Errorf("load error lacks %q; got %q", line, loadErr)
		}
	}
	if len(wantErr) == 0 && loadErr != "" {
		t.Errorf("unexpected load error: %s", loadErr)
	}
}

func sortedLines(s string) string {
	lines := nonEmptyLines(s)
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
