package luabind

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentd/agentd/internal/logging"
	"github.com/agentd/agentd/runtime"
)

// runScript loads one script with opts and returns what it printed.
func runScript(t *testing.T, opts Options, src string) string {
	t.Helper()
	var out syncBuffer
	opts.Stdout = &out
	rt := runtime.New(runtime.Options{Logger: logging.Discard()})
	h := NewHost(rt, opts)
	p := filepath.Join(t.TempDir(), "s.lua")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Load(p); err != nil {
		t.Fatal(err)
	}
	if err := rt.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

type counter struct{ N int }

func (c *counter) Add(k int) int { c.N += k; return c.N }

// Go values given as Options.Modules are required by name.
func TestGoModules(t *testing.T) {
	c := &counter{}
	out := runScript(t, Options{Modules: map[string]any{
		"greet":   func(name string) string { return "hello " + name },
		"counter": c,
	}}, `
local greet, counter = require("greet"), require("counter")
print(greet("lua"), counter:Add(2), counter:Add(3), counter.N, require("counter") == counter)
`)
	if out != "hello lua\t2\t5\t5\ttrue\n" {
		t.Errorf("output %q", out)
	}
}

// allow_io and allow_exec widen the sandbox, and only they do.
func TestSandboxSwitches(t *testing.T) {
	const probe = `print(io ~= nil, io ~= nil and io.popen ~= nil, os.remove ~= nil, os.execute ~= nil, os.exit ~= nil)`
	for _, c := range []struct {
		sb   Options
		want string
	}{
		{Options{}, "false\tfalse\tfalse\tfalse\tfalse"},
		{Options{AllowIO: true}, "true\tfalse\ttrue\tfalse\tfalse"},
		{Options{AllowIO: true, AllowExec: true}, "true\ttrue\ttrue\ttrue\tfalse"},
	} {
		if got := strings.TrimSpace(runScript(t, c.sb, probe)); got != c.want {
			t.Errorf("%+v: %q, want %q", c.sb, got, c.want)
		}
	}
}
