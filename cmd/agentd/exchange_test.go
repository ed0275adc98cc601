package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The exchange between real agentd processes on loopback: a hub and
// clients, each running Lua scripts.

var hubAddrRE = regexp.MustCompile(`exchange hub listening.* addr=(\S+)`)

// startHub starts an agentd whose config has a server endpoint on a
// random port (or addr), with the given scripts; it returns the process
// and the hub's URL.
func startHub(t *testing.T, addr string, scripts map[string]string) (*process, string) {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	fs := map[string]string{"config.toml": `[agentd]
scripts = ["scripts"]
shutdown_delay = "0s"
hot_reload = true
reload_debounce = "20ms"

[[exchange]]
role = "server"
listen = "` + addr + `"
`}
	for name, src := range scripts {
		fs[filepath.Join("scripts", name)] = src
	}
	if len(scripts) == 0 {
		fs["scripts/.keep"] = ""
	}
	d := start(t, files(t, fs))
	waitLog(t, d, "exchange hub listening")
	m := hubAddrRE.FindStringSubmatch(d.stderr.String())
	if m == nil {
		t.Fatalf("no hub address in the log:\n%s", d.stderr.String())
	}
	return d, "nats://" + m[1]
}

// startClient starts an agentd with a client endpoint to url.
func startClient(t *testing.T, url string, scripts map[string]string) *process {
	t.Helper()
	fs := map[string]string{"config.toml": `[agentd]
scripts = ["scripts"]
shutdown_delay = "0s"
request_timeout = "20s"

[[exchange]]
role = "client"
connect = ["` + url + `"]
retry = "100ms"
`}
	for name, src := range scripts {
		fs[filepath.Join("scripts", name)] = src
	}
	return start(t, files(t, fs))
}

// expectLines waits for each of want among the next stdout lines, in
// any order; other lines are skipped (and kept in the error message).
func (d *process) expectLines(want ...string) {
	d.t.Helper()
	left := map[string]int{}
	for _, w := range want {
		left[w]++
	}
	var seen []string
	deadline := time.After(30 * time.Second)
	for len(left) > 0 {
		select {
		case got := <-d.lines:
			seen = append(seen, got)
			if left[got] > 0 {
				if left[got]--; left[got] == 0 {
					delete(left, got)
				}
			}
		case <-deadline:
			d.t.Fatalf("still waiting for %v\nstdout:\n%s\nstderr:\n%s", left, strings.Join(seen, "\n"), d.stderr.String())
		}
	}
}

const echoService = `
local echo = agentd.service("echo")
function echo:init() self:publishReport("echo.boot", "cached", -1) end
function echo:say(x) return "echo " .. tostring(x) end
echo:exportMethod("say")
function echo:boom() error("broken on purpose") end
echo:exportMethod("boom")
function echo:later(x)
  local id = self:suspendResponse()
  self:startTimer(function() self:resumeResponse(id, "later " .. x) end, 0.05)
end
echo:exportMethod("later")
function echo:slow() local id = self:suspendResponse() end
echo:exportMethod("slow")
function echo:handleSubscription(s)
  print("echo: subscription " .. (s.status == agentd.SUBSCRIPTION_REQUESTED and "requested" or "withdrawn") ..
    " by " .. s.subscriber:serviceName() .. " remote=" .. tostring(s.subscriber:serviceLocation() == agentd.SERVICE_REMOTE) ..
    " pattern=" .. s.pattern)
  if s.status == agentd.SUBSCRIPTION_REQUESTED then self:sendReport(s.subscriber, "echo.private", "just you") end
end
function echo:tick(n) for i = 1, n do self:publishReport("echo.n", i) end end
echo:exportMethod("tick")
function echo:destroy() self:publishReport("echo.last", "goodbye") end
`

// The whole Lua API across two processes through a hub.
func TestExchangeLuaAPIAcrossProcesses(t *testing.T) {
	hub, url := startHub(t, "", map[string]string{"echo.lua": echoService + `
function echo:handleConnection(a)
  print("hub: " .. (a.state == agentd.CONNECTION_ACTIVE and "ACTIVE" or "INACTIVE") .. " role=" .. a.role ..
    " remote=" .. tostring(a.remoteProcess ~= ""))
end
`})
	client := startClient(t, url, map[string]string{"user.lua": `
local user = agentd.service("user")
function user:init()
  self:subscribeServiceName(self.seen, "echo")
  self:monitorReports(self.got, "echo", "echo.*")
end
function user:seen(b, status)
  if status == agentd.SERVICE_AVAILABLE then
    print("user: echo available remote=" .. tostring(b:serviceLocation() == agentd.SERVICE_REMOTE) ..
      " process=" .. tostring(b:processIdentity() ~= agentd.processIdentity()))
    self:scheduleAction(self.work)
  else
    print("user: echo withdrawn")
  end
end
function user:got(p, subject, content)
  if subject ~= "echo.n" then print("user: report " .. subject .. " " .. tostring(content)) end
  if subject == "echo.n" then
    self.n = (self.n or 0) + 1
    if content ~= self.n then print("user: out of order " .. content .. " at " .. self.n) end
    if self.n == 500 then print("user: 500 in order") end
  end
end
function user:handlePublisherNotification(n)
  print("user: publisher " .. (n.status == agentd.SERVICE_AVAILABLE and "available" or "withdrawn"))
end
function user:handleConnection(a)
  if a.state == agentd.CONNECTION_ACTIVE then print("user: connected role=" .. a.role) end
end
function user:work()
  print("user: " .. self:call("echo", "say", 42))
  print("user: " .. self:call("echo", "later", "x"))
  local ok, f = pcall(self.call, self, "echo", "boom")
  print("user: boom " .. f.error .. " " .. tostring(f.details:find("broken on purpose") ~= nil))
  ok, f = pcall(self.call, self, "echo", "nothing")
  print("user: nothing " .. f.error)
  local id = self:sendRequest("echo", "slow")
  self:processFailure(function(self, f) print("user: slow " .. f.error) end, id, 0.2)
  self:call("echo", "tick", 500)
end
`})
	client.expectLines(
		"user: connected role=client",
		"user: echo available remote=true process=true",
		"user: publisher available",
		"user: report echo.boot cached",
		"user: report echo.private just you",
		"user: echo 42",
		"user: later x",
		"user: boom 57 true",
		"user: nothing 55",
		"user: slow 47",
		"user: 500 in order",
	)
	hub.expectLines(
		"hub: ACTIVE role=server remote=true",
		"echo: subscription requested by user remote=true pattern=echo.*",
	)
	// the hub shuts down in order: echo's last report reaches the user
	// before echo is withdrawn, then the connection is lost
	_ = hub.cmd.Process.Signal(syscall.SIGTERM)
	client.expectLines("user: report echo.last goodbye", "user: publisher withdrawn", "user: echo withdrawn")
	if code := hub.wait(); code != 0 {
		t.Errorf("hub exit %d", code)
	}
}

// A process killed with kill -9 is withdrawn everywhere; a request to it
// that has no timeout fails instead of hanging.
func TestExchangeKilledProcessIsWithdrawn(t *testing.T) {
	hub, url := startHub(t, "", nil)
	victim := startClient(t, url, map[string]string{"echo.lua": echoService})
	waitLog(t, victim, "exchange connected")
	watcher := startClient(t, url, map[string]string{"w.lua": `
local w = agentd.service("w")
function w:init() self:subscribeServiceName(self.seen, "echo") end
function w:seen(b, status)
  if status == agentd.SERVICE_AVAILABLE then
    print("w: available")
    local id = self:sendRequest(b, "slow")      -- never answered, no timeout
    self:processFailure(function(self, f) print("w: failed " .. f.error .. " " .. f.details) end, id)
    self:scheduleAction(function() print("w: sent") end)
  else
    self.gone = agentd.time()
    print("w: withdrawn")
  end
end
`})
	watcher.expectLines("w: available", "w: sent")
	start := time.Now()
	_ = victim.cmd.Process.Kill()
	// the request fails (naming the cause), then the service is withdrawn
	select {
	case l := <-watcher.lines:
		if !strings.HasPrefix(l, "w: failed 57 process ") || !strings.Contains(l, "lost") {
			t.Errorf("request failure %q", l)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the pending request never failed")
	}
	watcher.expectLines("w: withdrawn")
	t.Logf("withdrawn %v after kill -9", time.Since(start))
	_ = hub
}

// A hub that restarts: its client withdraws what it saw, reconnects, and
// sees it again exactly once, subscriptions and cached reports included.
func TestExchangeHubRestart(t *testing.T) {
	hub, url := startHub(t, "", map[string]string{"echo.lua": echoService})
	addr := strings.TrimPrefix(url, "nats://")
	client := startClient(t, url, map[string]string{"u.lua": `
local u = agentd.service("u")
function u:init()
  self:subscribeServiceName(function(self, b, st)
    print("u: echo " .. (st == agentd.SERVICE_AVAILABLE and "available" or "withdrawn"))
  end, "echo")
  self:monitorReports(function(self, p, s, c) print("u: " .. s .. " " .. c) end, "echo", "echo.boot")
end
`})
	client.expectLines("u: echo available", "u: echo.boot cached")
	_ = hub.cmd.Process.Kill()
	<-hub.done
	client.expectLines("u: echo withdrawn")
	restarted := time.Now()
	startHub(t, addr, map[string]string{"echo.lua": echoService})
	client.expectLines("u: echo available", "u: echo.boot cached")
	t.Logf("visible again %v after the hub restarted", time.Since(restarted))
	select {
	case l := <-client.lines:
		t.Errorf("unexpected line after the recovery: %q", l)
	case <-time.After(300 * time.Millisecond):
	}
}

// A hung process (SIGSTOP) is withdrawn within a few seconds, and comes
// back when it resumes.
func TestExchangeHungProcess(t *testing.T) {
	_, url := startHub(t, "", nil)
	hung := startClient(t, url, map[string]string{"echo.lua": echoService})
	waitLog(t, hung, "exchange connected")
	watcher := startClient(t, url, map[string]string{"w.lua": `
local w = agentd.service("w")
function w:init()
  self:subscribeServiceName(function(self, b, st)
    print("w: echo " .. (st == agentd.SERVICE_AVAILABLE and "available" or "withdrawn"))
  end, "echo")
end
`})
	watcher.expectLines("w: echo available")
	start := time.Now()
	_ = hung.cmd.Process.Signal(syscall.SIGSTOP)
	watcher.expectLines("w: echo withdrawn")
	took := time.Since(start)
	t.Logf("withdrawn %v after SIGSTOP", took)
	if took > 10*time.Second {
		t.Errorf("withdrawn only after %v", took)
	}
	_ = hung.cmd.Process.Signal(syscall.SIGCONT)
	watcher.expectLines("w: echo available")
}

// A reload on one side while the other publishes to it and calls it:
// nothing is lost.
func TestExchangeReloadUnderTraffic(t *testing.T) {
	hub, url := startHub(t, "", map[string]string{"sink.lua": sinkScript("v1")})
	_ = hub
	src := startClient(t, url, map[string]string{"src.lua": `
local src = agentd.service("src")
function src:init() self:subscribeServiceName(self.seen, "sink") end
function src:seen(b, st)
  if st ~= agentd.SERVICE_AVAILABLE or self.started then return end
  self.started = true
  self.i = 0
  self:startTimer(self.burst, 0.01, "burst")
end
function src:burst()
  for k = 1, 20 do
    self.i = self.i + 1
    self:publishReport("n", self.i)
  end
  local ok, r = pcall(self.call, self, "sink", "count")
  if not ok then print("src: call failed " .. tostring(r.error)) end
  if self.i < 2000 then self:startTimer(self.burst, 0.005, "burst") else
    self:publishReport("done", self.i)
  end
end
`})
	_ = src
	waitLog(t, hub, "script started")
	// reload the sink several times while the burst runs
	dir := filepath.Dir(hub.cmd.Args[3]) // run -c DIR/config.toml
	for v := 2; v <= 4; v++ {
		time.Sleep(150 * time.Millisecond)
		writeFile(t, filepath.Join(dir, "scripts", "sink.lua"), sinkScript(fmt.Sprintf("v%d", v)))
		waitLog(t, hub, fmt.Sprintf("version v%d", v))
	}
	hub.expectLines("sink: 2000 reports in order, none lost")
}

func sinkScript(version string) string {
	return `
local sink = agentd.service("sink")
sink.replaceIfSnapshotFails = false
agentd.log.info("version ` + version + `")
function sink:init(r)
  self.n = r and r.n or 0
  self:monitorReports(self.got, "src", "*")
end
function sink:snapshot() return {n = self.n} end
function sink:got(p, subject, v)
  if subject == "done" then
    if self.n == v then print("sink: " .. v .. " reports in order, none lost") else print("sink: got " .. self.n .. " of " .. v) end
    return
  end
  if v ~= self.n + 1 then print("sink: gap at " .. self.n .. " -> " .. v) end
  self.n = v
end
function sink:count() return self.n end
sink:exportMethod("count")
`
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// The two-terminal example of README.md decodes and its scripts compile.
func TestCheckExchangeExample(t *testing.T) {
	for _, cfg := range []string{"hub.toml", "client.toml"} {
		code, out, errs := inProcess("check", "-c", "../../scripts/exchange/"+cfg)
		if code != exitOK || !strings.Contains(out, "ok (1 scripts compiled") {
			t.Errorf("%s: exit %d\nstdout %s\nstderr %s", cfg, code, out, errs)
		}
	}
}
