package luabind

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/agentd/agentd/internal/logging"
	"github.com/agentd/agentd/runtime"
)

// writeFiles writes name → content under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// LoadOptions name the agent, give it its configuration, and set where
// require looks: the folders in order, and never outside Root, even
// through a symbolic link.
func TestLoadWithOptions(t *testing.T) {
	base := t.TempDir()
	writeFiles(t, base, map[string]string{
		"one/main.lua": `
local m = require("shared.m")
print(agentd.config.who, m.where, require("local").where)
local ok, err = pcall(require, "escape")
print(ok, (string.gsub(err, ".*(not found).*", "%1")))
local s = agentd.service("one")
function s:init() agentd.log.info("hello") self:startTimer(self.boom, 0) end
function s:boom() error("boom") end
`,
		"one/lib/shared/m.lua": `return {where = "one/lib"}`,
		"one/local.lua":        `return {where = "one"}`,
		"one/lib/local.lua":    `return {where = "one/lib first"}`,
		"two/main.lua":         `print(agentd.config.who, require("shared.m").where)`,
		"two/lib/shared/m.lua": `return {where = "two/lib"}`,
		"secret/escape.lua":    `return {where = "outside"}`,
	})
	if err := os.Symlink(filepath.Join(base, "secret", "escape.lua"), filepath.Join(base, "one", "lib", "escape.lua")); err != nil {
		t.Skip(err)
	}
	synctest.Test(t, func(t *testing.T) { loadWithOptions(t, base) })
}

func loadWithOptions(t *testing.T, base string) {
	var out, logs syncBuffer
	rt := runtime.New(runtime.Options{Logger: logging.New(&logs, "text", logging.LevelDebug)})
	h := NewHost(rt, Options{Stdout: &out, Config: func(name string) map[string]any {
		return map[string]any{"who": "host table of " + name}
	}})
	load := func(pack string, cfg map[string]any) *Script {
		dir := filepath.Join(base, pack)
		opts := LoadOptions{
			Name:       pack + "/main",
			ModuleDirs: []string{filepath.Join(dir, "lib"), dir},
			Root:       dir,
			LogAttrs:   []any{"pack", pack},
		}
		if cfg != nil {
			opts.Config = func() map[string]any { return cfg }
		}
		sc, err := h.LoadWith(filepath.Join(dir, "main.lua"), opts)
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	one := load("one", map[string]any{"who": "pack one"})
	two := load("two", nil)
	if one.Name() != "one/main" || one.Agent().Name() != "one/main" || two.Name() != "two/main" {
		t.Errorf("names %q %q", one.Name(), two.Name())
	}
	synctest.Wait() // the timer has fired
	if err := rt.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := "pack one\tone/lib\tone/lib first\nfalse\tnot found\nhost table of two/main\ttwo/lib\n"
	if out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
	for _, w := range []string{`msg=hello script=`, `pack=one`, `msg="callback failed"`} {
		if !strings.Contains(logs.String(), w) {
			t.Errorf("logs lack %q:\n%s", w, logs.String())
		}
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "msg=hello") && !strings.Contains(line, "pack=one") {
			t.Errorf("record without pack=: %s", line)
		}
	}
}

// Lua modules bundled through Options.LuaModules are found after the
// script's own files; a syntax error in one names it.
func TestBundledLuaModules(t *testing.T) {
	out := runScript(t, Options{LuaModules: map[string]string{
		"bundled.greet": `local name = ... return function(who) return name .. " greets " .. who end`,
		"bad":           "local = 1",
	}}, `
print(require("bundled.greet")("lua"), require("bundled.greet") == require("bundled.greet"))
local ok, err = pcall(require, "bad")
print(ok, err)
`)
	want := "bundled.greet greets lua\ttrue\nfalse\trequire: [bad]:1: syntax error near '='\n"
	if out != want {
		t.Errorf("output %q, want %q", out, want)
	}
}
