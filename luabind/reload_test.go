package luabind

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/agentd/agentd/internal/logging"
	"github.com/agentd/agentd/runtime"
)

// reloadEnv is a runtime and host with scripts in a temp folder.
type reloadEnv struct {
	t         *testing.T
	dir       string
	rt        *runtime.Runtime
	h         *Host
	out, logs syncBuffer
}

func newReloadEnv(t *testing.T) *reloadEnv {
	e := &reloadEnv{t: t, dir: t.TempDir()}
	e.rt = runtime.New(runtime.Options{Logger: logging.New(&e.logs, "text", logging.LevelDebug), ProcessIdentity: "host:1"})
	e.h = NewHost(e.rt, Options{Stdout: &e.out})
	return e
}

func (e *reloadEnv) write(name, src string) string {
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *reloadEnv) load(name, src string) *Script {
	sc, err := e.h.Load(e.write(name, src))
	if err != nil {
		e.t.Fatal(err)
	}
	return sc
}

// takeOutput returns what was printed since the last call.
func (e *reloadEnv) takeOutput() string {
	e.out.mu.Lock()
	defer e.out.mu.Unlock()
	s := e.out.b.String()
	e.out.b.Reset()
	return s
}

func (e *reloadEnv) close() {
	if err := e.rt.Shutdown(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

func expectOutput(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("output\n--- got ---\n%s--- want ---\n%s", got, want)
	}
}

const counterV1 = `
local s = agentd.service{name = "counter", groups = {"a", "b"}}
function s:init(restored)
  self.n = restored and restored.n or 0
  self:startTimer(self.tick, 1, "tick")
  self:publishReport("counter.version", 1, -1)
end
function s:tick() self.n = self.n + 1 self:startTimer(self.tick, 1, "tick") end
function s:snapshot() return {n = self.n} end
function s:get() return "v1:" .. self.n end
s:exportMethod("get")
local gone = agentd.service("gone")
`

const counterV2 = `
local s = agentd.service{name = "counter", groups = {"b", "c"}}
function s:init(restored)
  self.n = restored and restored.n or 0
  print("v2 restored " .. tostring(restored and restored.n))
  self:publishReport("counter.version", 2, -1)
end
function s:get() return "v2:" .. self.n end
s:exportMethod("get")
local fresh = agentd.service("fresh")
`

const watcherScript = `
local w = agentd.service("watcher")
function w:init()
  self:subscribeRegistry(self.registry)
  self:monitorReports(self.report, "counter", "counter.*")
end
function w:registry(b, group, status)
  print("registry", b:serviceName(), b:agentIdentity(), group or "-", status)
end
function w:report(p, subject, content)
  print("report", p:agentIdentity(), subject, content)
end
function w:handlePublisherNotification(n) print("publisher", n.publisher:serviceName(), n.status) end
function w:ask() print("answer", self:call("counter", "get")) end
`

func TestReloadKeepsIdentityStateAndSubscribers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newReloadEnv(t)
		counter := e.load("counter.lua", counterV1)
		watcher := e.load("watcher.lua", watcherScript)
		time.Sleep(3500 * time.Millisecond)
		synctest.Wait()
		expectOutput(t, e.takeOutput(), `registry	counter	1@host:1	-	0
registry	counter	1@host:1	a	0
registry	counter	1@host:1	b	0
registry	gone	2@host:1	-	0
registry	watcher	`+watcherID(e)+`	-	0
publisher	counter	0
report	1@host:1	counter.version	1
`)
		e.write("counter.lua", counterV2)
		res, err := counter.Reload(2 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(res.Kept, ",") != "counter" || strings.Join(res.Added, ",") != "fresh" || strings.Join(res.Removed, ",") != "gone" {
			t.Errorf("result %+v", res)
		}
		synctest.Wait()
		// state handed over; identity 1@host:1 kept; only differences announced;
		// the new cached report replaces the old one without a new subscription
		expectOutput(t, e.takeOutput(), `v2 restored 3
registry	gone	2@host:1	-	1
registry	counter	1@host:1	a	1
registry	counter	1@host:1	c	0
registry	fresh	`+freshID(e)+`	-	0
report	1@host:1	counter.version	2
`)
		watcher.Agent().Post(func() {
			watcher.st.call(watcher.st.svcs[0], "ask", watcher.st.L.GetField(watcher.st.svcs[0].tbl, "ask"), watcher.st.svcs[0].tbl)
		})
		time.Sleep(5 * time.Second) // v1's timer must be gone: n stays 3
		synctest.Wait()
		expectOutput(t, e.takeOutput(), "answer\tv2:3\n")
		e.close()
	})
}

func watcherID(e *reloadEnv) string {
	return e.rt.LookupServiceName("watcher")[0].Identity()
}

func freshID(e *reloadEnv) string {
	return e.rt.LookupServiceName("fresh")[0].Identity()
}

func TestReloadFailuresKeepTheOldVersion(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"syntax", "local s = agentd.service('counter'\n", "counter.lua:1: syntax error"},
		{"chunk", "error('bad chunk')\n", "counter.lua:1: bad chunk"},
		{"init", "local s = agentd.service('counter')\nfunction s:init() error('bad init') end\n", "counter.lua:2: init of counter: bad init"},
		{"snapshot", strings.Replace(counterV1, "return {n = self.n}", "return {f = print}", 1), "snapshot.f: function cannot be sent"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newReloadEnv(t)
				src := counterV1
				if c.name == "snapshot" {
					src = c.src // the running version's snapshot is the one that fails
				}
				counter := e.load("counter.lua", src)
				before := e.rt.LookupServiceName("counter")[0]
				if c.name != "snapshot" {
					e.write("counter.lua", c.src)
				} else {
					e.write("counter.lua", counterV2)
				}
				_, err := counter.Reload(time.Second)
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("error %v, want %q", err, c.want)
				}
				synctest.Wait()
				after := e.rt.LookupServiceName("counter")
				if len(after) != 1 || after[0] != before || e.rt.LookupServiceName("gone") == nil {
					t.Fatalf("the old version is not running untouched: %v", after)
				}
				if len(e.rt.LookupServiceName("fresh")) != 0 {
					t.Fatal("the failed version left a service behind")
				}
				if c.name != "snapshot" {
					// fixing the file reloads normally
					e.write("counter.lua", counterV2)
					if _, err := counter.Reload(time.Second); err != nil {
						t.Fatal(err)
					}
				}
				e.close()
			})
		})
	}
}

// A call waiting in the old version when the reload commits still gets its
// answer (the drain); a request the old version took and never answers
// fails with 57 "service reloaded" when the drain ends; requests sent
// after the commit reach the new version.
func TestReloadDrainsTheOldVersion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newReloadEnv(t)
		e.load("late.lua", `
local s = agentd.service("late")
function s:answer()
  self.id = self:suspendResponse()
  self:startTimer(self.later, 1)
end
function s:later() self:resumeResponse(self.id, "late answer") end
s:exportMethod("answer")
`)
		mid := e.load("mid.lua", `
local s = agentd.service("mid")
function s:relay() return "old version relays " .. self:call("late", "answer") end
function s:hold() self:suspendResponse() end
s:exportMethod("relay")
s:exportMethod("hold")
`)
		var rec recorderLines
		client := goService(t, e.rt, "client")
		ask := func(method string) {
			client.Agent().Post(func() {
				id := client.SendRequest(runtime.Named("mid"), method, nil)
				client.ProcessResponse(id, func(res any, _ string) { rec.add(method + " -> " + res.(string)) })
				client.ProcessFailure(id, func(f *runtime.Failure) { rec.add(method + " -> " + f.Error()) }, 0)
			})
		}
		ask("relay")
		ask("hold")
		synctest.Wait()
		e.write("mid.lua", `
local s = agentd.service("mid")
function s:relay() return "new version" end
s:exportMethod("relay")
`)
		if _, err := mid.Reload(2 * time.Second); err != nil {
			t.Fatal(err)
		}
		ask("relay")
		synctest.Wait()
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		time.Sleep(time.Second) // the drain ends
		synctest.Wait()
		want := []string{
			"relay -> new version",
			"relay -> old version relays late answer",
			"hold -> failure 57 (Application Error) from netsvc: service reloaded",
		}
		if got := rec.take(); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		e.close()
	})
}

type recorderLines struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorderLines) add(s string) {
	r.mu.Lock()
	r.lines = append(r.lines, s)
	r.mu.Unlock()
}

func (r *recorderLines) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.lines
	r.lines = nil
	return out
}

func goService(t *testing.T, rt *runtime.Runtime, name string) *runtime.Service {
	t.Helper()
	a, err := rt.NewAgent(name)
	if err != nil {
		t.Fatal(err)
	}
	var s *runtime.Service
	if err := a.Do(func() {
		s, _ = a.NewService(runtime.ServiceConfig{Name: name})
		_ = s.Register()
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

// registryLog subscribes a Go service to the whole registry and records
// "name/group status" lines.
func registryLog(t *testing.T, rt *runtime.Runtime) *recorderLines {
	var rec recorderLines
	s := goService(t, rt, "registry-watch")
	s.Agent().Do(func() {
		s.SubscribeRegistry(func(ev runtime.RegistryEvent) {
			st := map[runtime.Status]string{runtime.Available: "AVAILABLE", runtime.Withdrawn: "WITHDRAWN"}[ev.Status]
			rec.add(ev.Binding.Name() + "/" + ev.Group + " " + st)
		})
	})
	return &rec
}

// Edge cases of a reload, each of which once left something behind.
func TestReloadEdgeCases(t *testing.T) {
	t.Run("init destroys its kept service", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newReloadEnv(t)
			sc := e.load("x.lua", `agentd.service("x")`)
			log := registryLog(t, e.rt)
			synctest.Wait()
			log.take()
			e.write("x.lua", "local s = agentd.service('x')\nfunction s:init() self:destroyService() end\n"+
				"function s:destroy() print('destroy of the new version') end\n")
			res, err := sc.Reload(time.Second)
			if err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			if len(e.rt.LookupServiceName("x")) != 0 || strings.Join(res.Removed, ",") != "x" {
				t.Errorf("x still registered, or not reported removed: %+v", res)
			}
			if got := strings.Join(log.take(), ";"); got != "x/ WITHDRAWN" {
				t.Errorf("registry saw %q", got)
			}
			// the same sequence as at a first load: the destroy hook runs
			if got := e.takeOutput(); got != "destroy of the new version\n" {
				t.Errorf("output %q", got)
			}
			e.close()
		})
	})
	t.Run("snapshot destroys its service", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newReloadEnv(t)
			sc := e.load("g.lua", "local s = agentd.service{name = 'g', groups = {'grp'}}\nfunction s:snapshot() self:destroyService() end\n")
			e.write("g.lua", "agentd.service{name = 'g', groups = {'grp'}}\n")
			if _, err := sc.Reload(time.Second); err == nil || !strings.Contains(err.Error(), "cannot be destroyed in snapshot") {
				t.Fatalf("error %v", err)
			}
			synctest.Wait()
			// the reload is refused and the old version runs on untouched
			if n := len(e.rt.LookupServiceGroup("grp")); n != 1 {
				t.Errorf("group lists %d members, want the running g", n)
			}
			e.close()
		})
	})
	t.Run("a discarded version answers nothing", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newReloadEnv(t)
			sc := e.load("s.lua", `
local s = agentd.service("s")
function s:hold() self.id = self:suspendResponse() end
function s:snapshot() return {id = self.id} end
s:exportMethod("hold")
`)
			var rec recorderLines
			client := goService(t, e.rt, "client")
			client.Agent().Do(func() {
				id := client.SendRequest(runtime.Named("s"), "hold", nil)
				client.ProcessResponse(id, func(res any, _ string) { rec.add(fmt.Sprint("reply ", res)) })
				client.ProcessFailure(id, func(f *runtime.Failure) { rec.add("failure " + f.Details) }, 0)
			})
			synctest.Wait()
			e.write("s.lua", `
local s = agentd.service("s")
function s:init(r) self:resumeResponse(r.id, "from the new version") end
local t = agentd.service("t")
function t:init() error("this version fails") end
`)
			if _, err := sc.Reload(time.Second); err == nil {
				t.Fatal("the reload should fail")
			}
			synctest.Wait()
			if got := rec.take(); len(got) != 0 {
				t.Errorf("the discarded version answered: %q", got)
			}
			// a version that commits answers at the commit
			e.write("s.lua", "local s = agentd.service('s')\nfunction s:init(r) self:resumeResponse(r.id, 'at commit') end\n")
			if _, err := sc.Reload(time.Second); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			if got := strings.Join(rec.take(), ";"); got != "reply at commit" {
				t.Errorf("got %q", got)
			}
			e.close()
		})
	})
	t.Run("expireReports in init applies to the kept cache", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newReloadEnv(t)
			sc := e.load("c.lua", "local s = agentd.service('c')\nfunction s:init() self:publishReport('old.subject', 1, -1) end\n")
			e.write("c.lua", "local s = agentd.service('c')\nfunction s:init() self:expireReports('*') self:publishReport('new.subject', 2, -1) end\n")
			if _, err := sc.Reload(time.Second); err != nil {
				t.Fatal(err)
			}
			var subj []string
			sc.Agent().Do(func() { subj = e.rt.LookupServiceName("c")[0].Service().CachedSubjects() })
			if strings.Join(subj, ",") != "new.subject" {
				t.Errorf("cache holds %v", subj)
			}
			e.close()
		})
	})
	t.Run("requests from the new chunk carry the kept identity", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newReloadEnv(t)
			senders := make(chan *runtime.Binding, 1)
			srv := goService(t, e.rt, "srv")
			srv.Agent().Do(func() {
				srv.ExportMethod("hello", func(r *runtime.Request) { senders <- r.Sender; r.Reply(nil) })
			})
			sc := e.load("p.lua", "agentd.service('p')\n")
			e.write("p.lua", "local s = agentd.service('p')\ns:sendRequest('srv', 'hello')\n")
			if _, err := sc.Reload(time.Second); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			if b := <-senders; b != e.rt.LookupServiceName("p")[0] {
				t.Errorf("sender %s is not the kept identity", b.Identity())
			}
			e.close()
		})
	})
	t.Run("the draining version can neither subscribe nor create services", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newReloadEnv(t)
			hold := make(chan *runtime.Request, 1)
			var requested, withdrawn int
			srv := goService(t, e.rt, "srv")
			srv.Agent().Do(func() {
				srv.ExportMethod("slow", func(r *runtime.Request) { hold <- r })
				srv.SetHooks(runtime.Hooks{Subscription: func(ev runtime.SubscriptionEvent) {
					if ev.Status == runtime.SubscriptionRequested {
						requested++
					} else {
						withdrawn++
					}
				}})
			})
			sc := e.load("m.lua", `
local s = agentd.service("m")
function s:init()
  self:call("srv", "slow")
  self:monitorReports(function() end, "srv", "*")
  print("create", pcall(agentd.service, "late"))
end
`)
			r := <-hold
			e.write("m.lua", "agentd.service('m')\n")
			if _, err := sc.Reload(time.Second); err != nil {
				t.Fatal(err)
			}
			srv.Agent().Do(func() { r.Reply(true) })
			time.Sleep(2 * time.Second)
			synctest.Wait()
			if got := e.takeOutput(); got != "create\tfalse\tservice: this version of the script has been replaced; it cannot create services\n" {
				t.Errorf("output %q", got)
			}
			srv.Agent().Do(func() {
				if requested != withdrawn || len(e.rt.LookupServiceName("late")) != 0 {
					t.Errorf("subscriptions requested %d, withdrawn %d; late registered: %d", requested, withdrawn, len(e.rt.LookupServiceName("late")))
				}
			})
			e.close()
		})
	})
}

// A running version whose snapshot fails would block every later reload;
// the new version can ask to replace it anyway, keeping identity and
// subscribers but not the state.
func TestReloadPastAFailingSnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newReloadEnv(t)
		sc := e.load("c.lua", "local s = agentd.service('c')\n"+
			"function s:init(r) self.n = 1; self:publishReport('c.n', 1, -1) end\n"+
			"function s:snapshot() error('broken snapshot') end\n")
		e.load("w.lua", "local w = agentd.service('w')\n"+
			"function w:init() self:monitorReports(self.got, 'c', '*') end\n"+
			"function w:got(p, subj, v) print('got', subj, v) end\n")
		synctest.Wait()
		expectOutput(t, e.takeOutput(), "got\tc.n\t1\n")
		id := e.rt.LookupServiceName("c")[0].Identity()

		e.write("c.lua", "local s = agentd.service('c')\n"+
			"function s:init(r) print('init', r); self:publishReport('c.n', 2) end\n")
		_, err := sc.Reload(time.Second)
		if err == nil || !strings.Contains(err.Error(), "broken snapshot") || !strings.Contains(err.Error(), "c.replaceIfSnapshotFails = true") {
			t.Fatalf("reload error %v, want the snapshot's error and the way out", err)
		}

		e.write("c.lua", "local s = agentd.service('c')\ns.replaceIfSnapshotFails = true\n"+
			"function s:init(r) print('init', r); self:publishReport('c.n', 2) end\n")
		res, err := sc.Reload(time.Second)
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if strings.Join(res.Kept, ",") != "c" || e.rt.LookupServiceName("c")[0].Identity() != id {
			t.Errorf("identity not kept: %+v", res)
		}
		expectOutput(t, e.takeOutput(), "init\tnil\ngot\tc.n\t2\n")
		if !strings.Contains(e.logs.String(), "snapshot failed: the new version starts without the state") {
			t.Errorf("the log does not say why the state is gone:\n%s", e.logs.String())
		}
		e.close()
	})
}

// Creating and destroying services leaves nothing behind: a long churn
// keeps the state's and the agent's service lists small.
func TestServiceChurnLeavesNothingBehind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newReloadEnv(t)
		sc := e.load("churn.lua", "local s = agentd.service('churn')\n"+
			"function s:init() self:startTimer(self.tick, 0.01) end\n"+
			"function s:tick()\n"+
			"  for i = 1, 10 do local x = agentd.service('x'); x:destroyService() end\n"+
			"  self:startTimer(self.tick, 0.01)\n"+
			"end\n")
		time.Sleep(10 * time.Second) // fake time: 10,000 services created and destroyed
		synctest.Wait()
		var svcs, services int
		_ = sc.Agent().Do(func() { svcs, services = len(sc.st.svcs), len(sc.Agent().Services()) })
		if svcs > 200 || services != 1 {
			t.Errorf("after the churn the state tracks %d services, the agent %d", svcs, services)
		}
		e.close()
	})
}

// A module's content is recorded as it is read, so an edit made right
// after (while the script still loads) is not taken as already running.
func TestDepHashesAreWhatWasRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newReloadEnv(t)
		mod := e.write("m.lua", "return 1\n")
		// the edit lands while the script loads, right after the module is
		// read: a Go module the chunk calls makes it
		e.h = NewHost(e.rt, Options{Stdout: &e.out, Modules: map[string]any{
			"editor": map[string]any{"edit": func() { e.write("m.lua", "return 2\n") }},
		}})
		sc := e.load("s.lua", "local m = require('m')\nrequire('editor').edit()\nagentd.service('s')\n")
		got := sc.DepHashes()[mod]
		if got != sha256.Sum256([]byte("return 1\n")) {
			t.Errorf("recorded hash is not that of the content read")
		}
		e.close()
	})
}

// With the exchange on, content over its size limit is an error at the
// sending call: publishReport, sendRequest, call, resumeResponse; a
// method's result over it fails the request with 52.
func TestContentSizeLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newReloadEnv(t)
		e.h.SetMaxContentSize(100)
		e.load("s.lua", `
local s = agentd.service("s")
function s:big() return string.rep("x", 200) end
s:exportMethod("big")
function s:init()
  print(pcall(self.publishReport, self, "a", string.rep("x", 200)))
  print(pcall(self.publishReport, self, "a", string.rep("x", 50)))
  print(pcall(self.sendRequest, self, "s", "big", string.rep("x", 200)))
  local ok, f = pcall(self.call, self, "s", "big")
  print(ok, f.error)
  print(pcall(self.call, self, "s", "later", string.rep("x", 200)))
  print(pcall(self.call, self, "s", "later", "x"))
end
function s:later(x)
  local id = self:suspendResponse()
  print(pcall(self.resumeResponse, self, id, string.rep("y", 200)))
  self:resumeResponse(id, "short")
end
s:exportMethod("later")
`)
		synctest.Wait()
		expectOutput(t, e.takeOutput(), "false\tpublishReport: content is too large: over 100 bytes encoded, the exchange's limit\n"+
			"true\n"+
			"false\tsendRequest: args is too large: over 100 bytes encoded, the exchange's limit\n"+
			"false\t52\n"+
			"false\tcall: args is too large: over 100 bytes encoded, the exchange's limit\n"+
			"false\tresumeResponse: result is too large: over 100 bytes encoded, the exchange's limit\n"+
			"true\tshort\n")
		e.close()
	})
}
