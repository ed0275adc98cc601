package luabind

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentd/agentd/internal/logging"
	"github.com/agentd/agentd/runtime"
)

// benchHost returns a host whose scripts can call bench.done(n), which
// sends n on the returned channel. limit is the callback limit (0: none).
func benchHost(b *testing.B, mailbox int, limit time.Duration) (*runtime.Runtime, *Host, chan int) {
	b.Helper()
	done := make(chan int, 64)
	rt := runtime.New(runtime.Options{Logger: logging.Discard(), MailboxSize: mailbox})
	h := NewHost(rt, Options{CallbackLimit: limit, Modules: map[string]any{
		"bench": map[string]any{"done": func(n int) { done <- n }},
	}})
	b.Cleanup(func() { _ = rt.Shutdown(context.Background()) })
	return rt, h, done
}

func writeScript(b *testing.B, dir, name, src string) string {
	b.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}

// benchSubscriber counts reports; with read set, it also reads two
// fields of each. options is the final argument of monitorReports ("" for
// none; a version without options ignores an extra argument, so the
// baseline runs the same script with default delivery).
func benchSubscriber(options string, read bool) string {
	if options != "" {
		options = ", " + options
	}
	body := ""
	if read {
		body = "  if c.seq ~= got or c.name ~= \"sensor\" then error(\"bad content\") end\n"
	}
	return `
local bench = require("bench")
local s = agentd.service("sub")
local want, got = tonumber(agentd.config.want), 0
function s:init() self:monitorReports(self.report, "pub", "bench.*"` + options + `) end
function s:report(pub, subject, c)
  got = got + 1
` + body + `  if got == want then bench.done(got) end
end
function s:ack() return got end
s:exportMethod("ack")
`
}

// The publisher waits for every subscriber to acknowledge each batch of
// 1000 reports, so the backlog stays bounded (as flow control would keep
// it in a real deployment) instead of growing to b.N queued reports whose
// garbage collection would dominate the figure.
const benchPublisher = `
local s = agentd.service("pub")
function s:init() self:exportMethod("go") end
function s:go(n)
  local subs = self:lookupServiceName("sub")
  for i = 1, n do
    self:publishReport("bench.x", {seq = i, name = "sensor", ok = true, value = 1.5, count = i})
    if i % 1000 == 0 then
      for _, b in ipairs(subs) do self:call(b, "ack") end
    end
  end
  return n
end
`

// benchReports publishes b.N five-field tables from one Lua agent to
// subs Lua subscriber agents (running benchSubscriber(options, read)) and
// reports deliveries per second, and CPU time and allocations per
// delivery. limit is the callback limit (0: none).
func benchReports(b *testing.B, subs int, options string, read bool, limit time.Duration) {
	dir := b.TempDir()
	_, h, done := benchHost(b, 10000, limit)
	h.opts.Config = func(string) map[string]any { return map[string]any{"want": strconv.Itoa(b.N)} }
	for i := range subs {
		if _, err := h.Load(writeScript(b, dir, fmt.Sprintf("sub%d.lua", i), benchSubscriber(options, read))); err != nil {
			b.Fatal(err)
		}
	}
	pub, err := h.Load(writeScript(b, dir, "pub.lua", benchPublisher))
	if err != nil {
		b.Fatal(err)
	}
	rt := h.rt
	client := goClient(b, rt)
	b.ReportAllocs()
	b.ResetTimer()
	m := startMeter()
	client.Agent().Post(func() { client.SendRequest(pub.st.svcs[0].rs.Binding().Target(), "go", []any{int64(b.N)}) })
	for range subs {
		<-done
	}
	b.StopTimer()
	m.report(b, b.N*subs, "delivery")
	if st := rt.Stats(); st.ReportsDropped != 0 {
		b.Fatalf("%d reports dropped", st.ReportsDropped)
	}
}

func goClient(b *testing.B, rt *runtime.Runtime) *runtime.Service {
	a, err := rt.NewAgent("client")
	if err != nil {
		b.Fatal(err)
	}
	var s *runtime.Service
	a.Do(func() {
		s, _ = a.NewService(runtime.ServiceConfig{Name: "client"})
		_ = s.Register()
	})
	return s
}

func BenchmarkReportsOneToOne(b *testing.B) { benchReports(b, 1, "", false, 0) }
func BenchmarkReportsOneToTen(b *testing.B) { benchReports(b, 10, "", false, 0) }

// The same with subscribers that read two fields of each report.
func BenchmarkReportsOneToOneRead(b *testing.B) { benchReports(b, 1, "", true, 0) }
func BenchmarkReportsOneToTenRead(b *testing.B) { benchReports(b, 10, "", true, 0) }

// Subscribers that ask for read-only views ({view = true}).
func BenchmarkReportsOneToTenView(b *testing.B)     { benchReports(b, 10, "{view = true}", false, 0) }
func BenchmarkReportsOneToTenViewRead(b *testing.B) { benchReports(b, 10, "{view = true}", true, 0) }

// The same with the default callback limit of the agentd command (5s):
// every run of Lua code is then watched (a context on the Lua state).
func BenchmarkReportsOneToOneLimited(b *testing.B) { benchReports(b, 1, "", false, 5*time.Second) }
func BenchmarkReportsOneToTenLimited(b *testing.B) { benchReports(b, 10, "", false, 5*time.Second) }
func BenchmarkCallRoundTripLimited(b *testing.B)   { benchCallRoundTrip(b, 5*time.Second) }

// BenchmarkCallRoundTrip measures self:call between two Lua agents in one
// process: one call in flight at a time.
func BenchmarkCallRoundTrip(b *testing.B) { benchCallRoundTrip(b, 0) }

func benchCallRoundTrip(b *testing.B, limit time.Duration) {
	dir := b.TempDir()
	_, h, done := benchHost(b, 10000, limit)
	if _, err := h.Load(writeScript(b, dir, "echo.lua", `
local s = agentd.service("echo")
function s:echo(x) return x end
s:exportMethod("echo")
`)); err != nil {
		b.Fatal(err)
	}
	caller, err := h.Load(writeScript(b, dir, "caller.lua", `
local bench = require("bench")
local s = agentd.service("caller")
function s:run(n)
  for i = 1, n do self:call("echo", "echo", i) end
  bench.done(n)
end
s:exportMethod("run")
`))
	if err != nil {
		b.Fatal(err)
	}
	client := goClient(b, h.rt)
	b.ReportAllocs()
	b.ResetTimer()
	m := startMeter()
	client.Agent().Post(func() { client.SendRequest(caller.st.svcs[0].rs.Binding().Target(), "run", []any{int64(b.N)}) })
	<-done
	b.StopTimer()
	m.report(b, b.N, "call")
}

// BenchmarkIdleAgents starts 10,000 agents, each a small script with one
// service, and reports the time it took, the CPU time and allocations per
// start, and the memory each agent holds (resident set and Go heap,
// measured after a GC). It ignores b.N.
func BenchmarkIdleAgents(b *testing.B) { benchIdleAgents(b, 10000) }

// BenchmarkIdleAgents1000 is the same with 1,000 agents.
func BenchmarkIdleAgents1000(b *testing.B) { benchIdleAgents(b, 1000) }

func benchIdleAgents(b *testing.B, n int) {
	dir := b.TempDir()
	path := writeScript(b, dir, "idle.lua", `
local s = agentd.service("idle")
function s:init() self.count = 0 end
function s:tick() self.count = self.count + 1 end
s:exportMethod("tick")
`)
	_, h, _ := benchHost(b, 10000, 0)
	if err := h.Compile(path); err != nil {
		b.Fatal(err)
	}
	rssBefore, heapBefore := memory()
	b.ResetTimer()
	start := time.Now()
	m := startMeter()
	scripts := make([]*Script, 0, n)
	for range n {
		sc, err := h.Load(path)
		if err != nil {
			b.Fatal(err)
		}
		scripts = append(scripts, sc)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	m.report(b, n, "start")
	// what the process holds as the garbage collector left it, then after
	// a forced collection that returns free memory to the system
	b.ReportMetric(float64(rss()-rssBefore)/float64(n)/1024, "KiB-RSS-held/agent")
	rssAfter, heapAfter := memory()
	b.ReportMetric(elapsed.Seconds()*1000, "ms/"+strconv.Itoa(n/1000)+"k-starts")
	b.ReportMetric(float64(rssAfter-rssBefore)/float64(n)/1024, "KiB-RSS/agent")
	b.ReportMetric(float64(heapAfter-heapBefore)/float64(n)/1024, "KiB-heap/agent")
	if got := len(h.rt.ServiceAgents()); got != n {
		b.Fatalf("%d services registered, want %d", got, n)
	}
	goruntime.KeepAlive(scripts)
}

// memory returns the resident set size and the live heap, after a GC.
func memory() (uint64, uint64) {
	goruntime.GC()
	debug.FreeOSMemory()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return rss(), ms.HeapAlloc
}

// rss returns the process's resident set size.
func rss() uint64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err == nil {
		if f := strings.Fields(string(data)); len(f) > 1 {
			pages, _ := strconv.ParseUint(f[1], 10, 64)
			return pages * uint64(os.Getpagesize())
		}
	}
	return 0
}
