package daemon

import (
	"context"
	"fmt"
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
	return startPacksHot(t, true, agentdKeys, extra, files)
}

// startPacksHot is startPacks with hot reload on or off.
func startPacksHot(t *testing.T, hot bool, agentdKeys, extra string, files map[string]string) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), out: newLines(), logs: newLines()}
	h.write("config.toml", fmt.Sprintf("[agentd]\nhot_reload = %v\nreload_debounce = \"30ms\"\nreload_drain = \"1s\"\nshutdown_delay = \"0s\"\n", hot)+
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

// versionPack is the pack counter in version v (a major version number)
// in the folder dir: its [config] and its service's output name v.
func versionPack(dir, v string) map[string]string {
	return packFiles(dir, "counter", v+".0.0", "[config]\nwho = \"default v"+v+"\"\n", map[string]string{
		"main.lua": `local fmt = require("counter.fmt")
local s = agentd.service("counter")
function s:init(restored)
  self.n = (restored and restored.n or 0) + 1
  print(fmt.line("v` + v + `", self.n, agentd.config.who))
end
function s:snapshot() return {n = self.n} end
function s:destroy() print("counter v` + v + ` destroyed") end
`,
		"lib/counter/fmt.lua": `return {line = function(v, n, who) return "counter " .. v .. " run " .. n .. " for " .. who end}`,
	})
}

// sighup makes the daemon look at everything again, as a SIGHUP with an
// unchanged config.toml does.
func sighup(t *testing.T, h *harness) {
	t.Helper()
	next, err := config.Load(h.path("config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.d.Reconfigure(next); err != nil {
		t.Fatal(err)
	}
}

// once returns a function that calls f the first time only.
func once(f func()) func() {
	done := false
	return func() {
		if !done {
			done = true
			f()
		}
	}
}

// An install or a removal may happen at any moment of the daemon's look at
// the packs. Here they happen at the worst one, deterministically: after
// the daemon has read the pack folders and before it acts on them (hot
// reload is off, so only the SIGHUPs look). The daemon must act on one
// version of the pack, whole: the new version with its own [config]
// (never its scripts with the old version's), then the removal as such
// (never as a pack that lost its files).
func TestPackReplacedWhileTheDaemonLooks(t *testing.T) {
	files := versionPack("v1", "1")
	for k, v := range versionPack("v2", "2") {
		files[k] = v
	}
	h := startPacksHot(t, false, "", "", files)
	install(t, h, "v1", false)
	sighup(t, h)
	h.expect("counter v1 run 1 for default v1")

	h.d.packsFound = once(func() { install(t, h, "v2", false) })
	sighup(t, h)
	h.expect("counter v2 run 2 for default v2") // v1's snapshot, v2's scripts, v2's [config]
	if st := status(t, h)["counter"]; st.State != pack.StateLoaded || st.Version != "2.0.0" || st.Error != "" {
		t.Errorf("status after the upgrade: %+v", st)
	}

	h.d.packsFound = once(func() {
		if err := pack.Remove(h.path("packs"), "counter"); err != nil {
			t.Fatal(err)
		}
	})
	sighup(t, h)
	h.expect("counter v2 destroyed")
	h.logs.waitFor(t, `msg="pack stopped" pack=counter why=removed`)
	if st := status(t, h); len(st) != 0 {
		t.Errorf("status after the removal: %v", st)
	}
	for _, bad := range []string{"level=ERROR", "level=WARN"} {
		if strings.Contains(h.logs.String(), bad) {
			t.Errorf("the log has %s records:\n%s", bad, h.logs.String())
		}
	}
}

// scriptsPack is the pack counter in version v (a major version number)
// in the folder dir, running the scripts named (a.lua for "a"); each
// one's service says when it starts and stops, and which version it is.
func scriptsPack(dir, v string, names ...string) map[string]string {
	var list []string
	files := map[string]string{}
	for _, n := range names {
		list = append(list, `"`+n+`.lua"`)
		files[n+".lua"] = `local s = agentd.service("counter-` + n + `")
function s:init() print("` + n + ` v` + v + ` up") end
function s:destroy() print("` + n + ` v` + v + ` down") end
`
	}
	out := map[string]string{dir + "/pack.toml": "name = \"counter\"\nversion = \"" + v + ".0.0\"\nscripts = [" + strings.Join(list, ", ") + "]\n"}
	for k, src := range files {
		out[dir+"/"+k] = src
	}
	return out
}

// An install may also happen while the daemon starts or reloads a pack's
// scripts: here, just before it loads a script that the new version no
// longer has. That failure is the mixture's, not the pack's: the daemon
// neither reports it nor keeps it, and starts (or reloads to) the new
// version, whole.
func TestPackReplacedWhileItsScriptsLoad(t *testing.T) {
	files := map[string]string{}
	for _, v := range []map[string]string{
		scriptsPack("v1", "1", "a", "b"), scriptsPack("v2", "2", "a", "c"),
		scriptsPack("v3", "3", "a", "c"), scriptsPack("v4", "4", "a", "d"),
	} {
		for k, src := range v {
			files[k] = src
		}
	}
	h := startPacksHot(t, false, "", "", files)
	installAt := func(script, src string) func(string, string) {
		return func(_, rel string) {
			if rel == script {
				h.d.packScript = nil
				install(t, h, src, false)
			}
		}
	}
	wantStatus := func(version string) {
		t.Helper()
		if st := status(t, h)["counter"]; st.State != pack.StateLoaded || st.Version != version || st.Error != "" {
			t.Errorf("status: %+v, want %s loaded", st, version)
		}
	}

	// starting 1.0.0, 2.0.0 (without b.lua) replaces it before b.lua loads
	install(t, h, "v1", false)
	h.d.packScript = installAt("b.lua", "v2")
	sighup(t, h)
	h.expect("a v1 up")
	h.expect("a v1 down") // a pack starts whole or not at all
	got := []string{h.out.next(t), h.out.next(t)}
	if got[0] != "a v2 up" || got[1] != "c v2 up" {
		t.Errorf("output %q, want 2.0.0's a and c starting", got)
	}
	wantStatus("2.0.0")

	// reloading to 3.0.0, 4.0.0 (without c.lua) replaces it before c.lua reloads
	install(t, h, "v3", false)
	h.d.packScript = installAt("c.lua", "v4")
	sighup(t, h)
	h.out.waitFor(t, "a v4 up")
	h.out.waitFor(t, "c v2 down")
	h.out.waitFor(t, "d v4 up")
	wantStatus("4.0.0")
	for _, bad := range []string{"level=ERROR", "level=WARN"} {
		if strings.Contains(h.logs.String(), bad) {
			t.Errorf("the log has %s records:\n%s", bad, h.logs.String())
		}
	}
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
