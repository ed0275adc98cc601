package daemon

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/agentd/agentd/internal/config"
	"github.com/agentd/agentd/internal/pack"
)

// startPacks runs a daemon (agentd 0.1.0, hot reload on) with agentdKeys
// added to [agentd] and extra after it, on the files given.
func startPacks(t *testing.T, agentdKeys, extra string, files map[string]string) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), out: newLines(), logs: newLines()}
	h.write("config.toml", "[agentd]\nhot_reload = true\nreload_debounce = \"30ms\"\nreload_drain = \"1s\"\nshutdown_delay = \"0s\"\n"+
		agentdKeys+"\n[log]\nlevel = \"debug\"\n"+extra)
	for name, src := range files {
		h.write(name, src)
	}
	c, err := config.Load(h.path("config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	h.d, err = New(c, Options{Stdout: h.out, Stderr: h.logs, Version: "0.1.0"})
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

// packFiles returns the files of a pack folder at dir (slash-separated).
func packFiles(dir, name, version, manifestExtra string, files map[string]string) map[string]string {
	out := map[string]string{
		dir + "/pack.toml": "name = \"" + name + "\"\nversion = \"" + version + "\"\nscripts = [\"main.lua\"]\n" + manifestExtra,
	}
	for k, v := range files {
		out[dir+"/"+k] = v
	}
	return out
}

// counterPack is a pack whose service counts its versions across reloads.
func counterPack(v string) map[string]string {
	return packFiles("src", "counter", v+".0.0", "[config]\nwho = \"default\"\n", map[string]string{
		"main.lua": `local fmt = require("counter.fmt")
local s = agentd.service("counter")
function s:init(restored)
  self.n = (restored and restored.n or 0) + 1
  print(fmt.line("vV", self.n, agentd.config.who))
end
function s:snapshot() return {n = self.n} end
function s:destroy() print("counter vV destroyed") end
`,
		"lib/counter/fmt.lua": `return {line = function(v, n, who) return "counter " .. v .. " run " .. n .. " for " .. who end}`,
	})
}

func writeAll(h *harness, files map[string]string) {
	for name, src := range files {
		h.write(name, strings.ReplaceAll(src, "vV", "v"+strings.Split(files["src/pack.toml"], "\"")[3][:1]))
	}
}

func install(t *testing.T, h *harness, src string, upgrade bool) {
	t.Helper()
	_, err := pack.Install(h.path(src), pack.InstallOptions{PacksDir: h.path("packs"), AgentdVersion: "0.1.0", Upgrade: upgrade, NoTest: true})
	if err != nil {
		t.Fatal(err)
	}
}

func status(t *testing.T, h *harness) map[string]pack.PackStatus {
	t.Helper()
	st, err := pack.ReadStatus(h.path("packs"))
	if err != nil || st == nil {
		t.Fatalf("status: %v %v", st, err)
	}
	return st.Packs
}

// waitStatus waits until the status file satisfies ok; the deadline only
// keeps a broken build from hanging.
func waitStatus(t *testing.T, h *harness, what string, ok func(map[string]pack.PackStatus) bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, err := pack.ReadStatus(h.path("packs"))
		if err == nil && st != nil && ok(st.Packs) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never showed %s: %+v %v", what, st, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A running daemon picks up an install, an upgrade (the service's state
// handed over through snapshot and init) and a removal.
func TestPacksInstallUpgradeRemoveWhileRunning(t *testing.T) {
	h := startPacks(t, "", "[config.counter]\nwho = \"host\"\n", map[string]string{"packs/README": "installed packs\n"})
	h.logs.waitFor(t, "agentd started")
	if st := status(t, h); len(st) != 0 {
		t.Errorf("status before any install: %v", st)
	}

	writeAll(h, counterPack("1"))
	install(t, h, "src", false)
	h.expect("counter v1 run 1 for host")
	h.logs.waitFor(t, `msg="pack started" pack=counter version=1.0.0`)
	waitStatus(t, h, "counter 1.0.0 loaded", func(st map[string]pack.PackStatus) bool {
		return st["counter"].State == pack.StateLoaded && st["counter"].Version == "1.0.0"
	})

	os.RemoveAll(h.path("src"))
	writeAll(h, counterPack("2"))
	install(t, h, "src", false)
	h.expect("counter v2 run 2 for host") // the old version's snapshot reached the new init
	waitStatus(t, h, "counter 2.0.0 loaded", func(st map[string]pack.PackStatus) bool {
		return st["counter"].State == pack.StateLoaded && st["counter"].Version == "2.0.0"
	})

	if err := pack.Remove(h.path("packs"), "counter"); err != nil {
		t.Fatal(err)
	}
	h.expect("counter v2 destroyed")
	h.logs.waitFor(t, `msg="pack stopped" pack=counter why=removed`)
	waitStatus(t, h, "no pack", func(st map[string]pack.PackStatus) bool { return len(st) == 0 })
}

// Two packs may both have main.lua and a module of the same name: each
// runs as its own agent with its own agentd.config and its own lib/.
func TestPacksWithTheSameScriptName(t *testing.T) {
	files := map[string]string{}
	for _, name := range []string{"alpha", "beta"} {
		for k, v := range packFiles(name, name, "1.0.0", "[config]\nwho = \"default "+name+"\"\nonly_"+name+" = true\n", map[string]string{
			"main.lua": `local util = require("util")
local s = agentd.service("` + name + `")
function s:init() print(util.name, agentd.config.who, agentd.config.only_alpha, agentd.config.only_beta) end
function s:whoami() return util.name end
s:exportMethod("whoami")
`,
			"lib/util.lua": `return {name = "util of ` + name + `"}`,
		}) {
			files[k] = v
		}
	}
	files["client.lua"] = `local c = agentd.service("client")
function c:init() print("alpha says", self:call("alpha", "whoami"), "beta says", self:call("beta", "whoami")) end
`
	h := startPacks(t, `packs = ["alpha", "beta"]`+"\nscripts = [\"client.lua\"]", "[config.alpha]\nwho = \"host alpha\"\n", files)
	out := strings.Join([]string{h.out.next(t), h.out.next(t), h.out.next(t)}, "\n")
	for _, want := range []string{
		"alpha says\tutil of alpha\tbeta says\tutil of beta",
		"util of alpha\thost alpha\ttrue\tnil",
		"util of beta\tdefault beta\tnil\ttrue",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// [config.beta] given by SIGHUP reaches beta only, which reloads
	h.write("config.toml", strings.Replace(readText(t, h.path("config.toml")), "[config.alpha]", "[config.beta]\nwho = \"host beta\"\n[config.alpha]", 1))
	next, err := config.Load(h.path("config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.d.Reconfigure(next); err != nil {
		t.Fatal(err)
	}
	h.expect("util of beta\thost beta\tnil\ttrue")
	if strings.Contains(h.logs.String(), `msg="script reloaded" pack=alpha`) {
		t.Errorf("alpha reloaded for beta's table:\n%s", h.logs.String())
	}

	// a module of alpha's lib/ changes: alpha reloads, beta does not
	h.write("alpha/lib/util.lua", `return {name = "util of alpha, edited"}`)
	h.expect("util of alpha, edited\thost alpha\ttrue\tnil")
	h.logs.waitFor(t, `msg="script reloaded" pack=alpha`)
}

// A pack that fails to load, or whose ranges are not met, is reported;
// the others run. Fixing the broken pack starts it.
func TestPacksThatCannotRun(t *testing.T) {
	files := map[string]string{}
	add := func(dir, name, extra string, main string) {
		for k, v := range packFiles(dir, name, "1.0.0", extra, map[string]string{"main.lua": main}) {
			files[k] = v
		}
	}
	add("packs/good", "good", "", `print("good runs")`)
	add("packs/broken", "broken", "", "local x = \nprint('broken'")
	add("packs/future", "future", `agentd = ">=9.0.0"`+"\n", `print("future runs")`)
	add("packs/needy", "needy", "[requires]\nmissing = \"^1\"\n", `print("needy runs")`)
	add("packs/child", "child", "[requires]\ngood = \"^1\"\n", `print("child runs")`)
	files["packs/junk/README"] = "not a pack"
	h := startPacks(t, "", "", files)
	got := []string{h.out.next(t), h.out.next(t)}
	if !(got[0] == "good runs" && got[1] == "child runs") {
		t.Errorf("output %q: good first, then child, which requires it", got)
	}
	st := status(t, h)
	for name, want := range map[string]string{
		"good":   "loaded",
		"child":  "loaded",
		"broken": "failed: " + h.path("packs/broken/main.lua") + ":2: syntax error",
		"future": "skipped: needs agentd >=9.0.0; this is agentd 0.1.0",
		"needy":  "skipped: requires pack missing ^1, which is not there",
		"junk":   "failed: no pack.toml",
	} {
		if s := st[name].State + ": " + st[name].Error; !strings.HasPrefix(strings.TrimSuffix(s, ": "), want) {
			t.Errorf("%s: %q, want %q", name, s, want)
		}
	}
	h.logs.waitFor(t, `msg="pack failed to load" pack=broken`)

	h.write("packs/broken/main.lua", `print("broken fixed")`)
	h.expect("broken fixed")
	h.logs.waitFor(t, `msg="pack started" pack=broken`)
}

func readText(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
