package daemon

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentd/agentd/internal/config"
)

// startNamed runs a daemon with process identity proc on the
// configuration text cfg (scripts in scripts/, no hot reload), with files.
func startNamed(t *testing.T, proc, cfg string, files map[string]string) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), out: newLines(), logs: newLines()}
	h.write("config.toml", cfg)
	if err := os.MkdirAll(h.path("scripts"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range files {
		h.write(name, src)
	}
	c, err := config.Load(h.path("config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	h.d, err = New(c, Options{Stdout: h.out, Stderr: h.logs, processIdentity: proc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.d.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	if err := h.d.Start(); err != nil {
		t.Fatal(err)
	}
	return h
}

const daemonBase = "[agentd]\nscripts = [\"scripts\"]\nshutdown_delay = \"0s\"\n[log]\nlevel = \"debug\"\n"

// clock runs in the hub's daemon.
const clockScript = `local clock = agentd.service("clock")
function clock:now() return agentd.processIdentity() end
clock:exportMethod("now")
`

// watcher runs in the client's daemon: it says when it sees the clock,
// and on each connection tries to publish content over the exchange's
// size limit.
const watcherScript = `local w = agentd.service("watcher")
local big = string.rep("x", 2 * 1024 * 1024)
function w:init()
  self:subscribeServiceName(self.seen, "clock")
  print("big at start: " .. tostring(pcall(self.publishReport, self, "big", big)))
end
function w:seen(b, status)
  if status == agentd.SERVICE_AVAILABLE then
    print("clock available in " .. b:processIdentity() .. " remote=" .. tostring(b:serviceLocation() == agentd.SERVICE_REMOTE))
    print("clock says " .. self:call(b, "now"))
  else
    print("clock withdrawn")
  end
end
function w:handleConnection(a)
  if a.state == agentd.CONNECTION_ACTIVE then
    local ok, err = pcall(self.publishReport, self, "big", big)
    print("connected to " .. a.remoteProcess .. "; big: " .. tostring(ok) .. " " .. tostring(err))
  end
end
`

// SIGHUP adds and removes client endpoints while the daemon runs; what
// would change a server endpoint is refused, and its hub runs on.
func TestSIGHUPAddsAndRemovesClientEndpoints(t *testing.T) {
	hub := startNamed(t, "hub:1", daemonBase+"[[exchange]]\nrole = \"server\"\nlisten = \"127.0.0.1:0\"\n",
		map[string]string{"scripts/clock.lua": clockScript})
	addr := hub.d.x.HubAddr()
	if addr == "" {
		t.Fatal("no hub address")
	}
	c := startNamed(t, "client:2", daemonBase, map[string]string{"scripts/watcher.lua": watcherScript})
	// no exchange yet: no size limit
	c.out.waitFor(t, "big at start: true")

	withClient := daemonBase + "[[exchange]]\nrole = \"client\"\nconnect = [\"nats://" + addr + "\"]\nretry = \"50ms\"\n"
	if err := c.reconfigure(withClient); err != nil {
		t.Fatal(err)
	}
	c.out.waitFor(t, "connected to hub:1; big: false publishReport: content is too large")
	c.out.waitFor(t, "clock available in hub:1 remote=true")
	c.out.waitFor(t, "clock says hub:1")
	c.logs.waitFor(t, "exchange endpoint added")

	// removed: the clock is withdrawn
	if err := c.reconfigure(daemonBase); err != nil {
		t.Fatal(err)
	}
	c.out.waitFor(t, "clock withdrawn")
	if len(c.d.x.Endpoints()) != 0 {
		t.Errorf("endpoints left: %+v", c.d.x.Endpoints())
	}

	// a server endpoint cannot change: the whole configuration is refused
	hubCfg := func(extra string) string {
		return daemonBase + "[[exchange]]\nrole = \"server\"\nlisten = \"127.0.0.1:0\"\n" + extra
	}
	for _, tc := range []struct{ cfg, want string }{
		{hubCfg("token = \"t\"\n"), "exchange[1].token cannot change while agentd runs"},
		{hubCfg("group = \"g\"\n[exchange.cluster]\nlisten = \"127.0.0.1:0\"\n"), "exchange[1].group, exchange[1].cluster.listen cannot change while agentd runs"},
		{strings.Replace(hubCfg(""), "127.0.0.1:0", "127.0.0.1:1", 1), "exchange[1].listen cannot change"},
		{hubCfg("[[exchange]]\nrole = \"server\"\nlisten = \"127.0.0.1:0\"\n"), "exchange[2] (a server endpoint added) cannot change"},
		{daemonBase, "exchange (the server endpoint on 127.0.0.1:0 removed) cannot change"},
		{strings.Replace(hubCfg("token = \"t\"\n"), "level = \"debug\"\n", "level = \"debug\"\nformat = \"json\"\n", 1),
			"log.format, exchange[1].token cannot change"},
	} {
		err := hub.reconfigure(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "the running configuration stays in force") {
			t.Errorf("config:\n%s\nerror %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if got := hub.d.x.HubAddr(); got != addr {
		t.Errorf("hub address %q, was %q", got, addr)
	}
	// the hub runs as before: a client added again sees the clock again
	if err := c.reconfigure(withClient); err != nil {
		t.Fatal(err)
	}
	c.out.waitCount(t, "clock available in hub:1 remote=true", 2)
	// a hub config that changes only scripts (not the server) is applied
	if err := hub.reconfigure(hubCfg("[config.clock]\nx = 1\n")); err != nil {
		t.Errorf("unchanged server: %v", err)
	}
}

// A new client endpoint whose TLS files cannot be used refuses the
// configuration, naming file, line and key.
func TestSIGHUPRefusesAClientWithBadTLSFiles(t *testing.T) {
	c := startNamed(t, "client:1", daemonBase, nil)
	next := daemonBase + "[[exchange]]\nrole = \"client\"\nconnect = [\"tls://127.0.0.1:1\"]\n[exchange.tls]\nca = \"missing.pem\"\n"
	err := c.reconfigure(next)
	want := filepath.Join(c.dir, "config.toml") + ":10: exchange[1].tls.ca: cannot read: no such file or directory (" + c.path("missing.pem") + ")"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.HasSuffix(err.Error(), "; the running configuration stays in force") {
		t.Fatalf("error %v\nwant %s", err, want)
	}
	if len(c.d.x.Endpoints()) != 0 {
		t.Error("the endpoint was added")
	}
}

// A hub that cannot listen stops the start, naming its entry.
func TestHubThatCannotListenStopsTheStart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte("[agentd]\nshutdown_delay = \"0s\"\n\n[[exchange]]\nrole = \"server\"\nlisten = \""+l.Addr().String()+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, Options{processIdentity: "hub:1"})
	if err != nil {
		t.Fatal(err)
	}
	err = d.Start()
	if err == nil || !strings.Contains(err.Error(), path+":4: exchange[1]: ") || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("Start: %v", err)
	}
	if err := d.Close(context.Background()); err != nil {
		t.Error(err)
	}
}
