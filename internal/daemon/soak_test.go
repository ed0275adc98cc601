package daemon

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentd/agentd/internal/config"
)

// The soak: 200 agents publishing, subscribing, calling, churning
// services, running cron actions and alarms, with a script reloaded every
// second, for -soak (default 3 minutes). It reports the process's
// resident memory and goroutine count at the start and at the end, and
// their largest values after the first tenth (the warm-up). Not part of
// go test (run it on purpose):
//
//	go test -run '^$' -bench Soak -benchtime 1x -soak 3m ./internal/daemon/
var soakFor = flag.Duration("soak", 3*time.Minute, "how long BenchmarkSoak runs")

func soakScripts() map[string]string {
	files := map[string]string{}
	for i := range 40 {
		files[fmt.Sprintf("scripts/pub%02d.lua", i)] = fmt.Sprintf(`
local s = agentd.service("pub%02d")
function s:init()
  self.n = 0
  self:publishReport("boot", {at = agentd.time()}, -1)
  self:startTimer(self.tick, 0.05, "tick")
end
function s:tick()
  self.n = self.n + 1
  self:publishReport("data." .. (self.n %% 7), {n = self.n, a = "x", b = 1.5, c = true, d = {1, 2, 3}})
  self:publishReport("cached." .. (self.n %% 50), self.n, 30)
  self:startTimer(self.tick, 0.05, "tick")
end
`, i)
		files[fmt.Sprintf("scripts/sub%02d.lua", i)] = fmt.Sprintf(`
local s = agentd.service("sub%02d")
function s:init()
  self.got = 0
  self:monitorReports(self.report, "pub%02d", "data.*")
  self:monitorReports(self.report, "pub%02d", "cached.*")
end
function s:report(p, subject, content) self.got = self.got + 1 end
`, i, i, (i+1)%40)
	}
	for i := range 20 {
		files[fmt.Sprintf("scripts/calc%02d.lua", i)] = fmt.Sprintf(`
local s = agentd.service("calc%02d")
function s:add(a, b) return a + b end
s:exportMethod("add")
function s:later(x)
  local id = self:suspendResponse()
  self:startTimer(function() self:resumeResponse(id, x) end, 0.01)
end
s:exportMethod("later")
`, i)
		files[fmt.Sprintf("scripts/caller%02d.lua", i)] = fmt.Sprintf(`
local s = agentd.service("caller%02d")
function s:init() self:startTimer(self.tick, 0.05, "tick") end
function s:tick()
  local ok = pcall(self.call, self, "calc%02d", "add", 1, 2)
  local id = self:sendRequest("calc%02d", "later", "x")
  self:processFailure(function() end, id, 1)
  self:startTimer(self.tick, 0.05, "tick")
end
`, i, i, i)
		files[fmt.Sprintf("scripts/churn%02d.lua", i)] = fmt.Sprintf(`
local s = agentd.service("churn%02d")
function s:init()
  self:subscribeServiceName(function() end, "temp")
  self:startTimer(self.tick, 0.01, "tick")
end
function s:tick()
  for k = 1, 10 do
    local t = agentd.service("temp")
    t:joinGroup("g%d")
    t:destroyService()
  end
  self:startTimer(self.tick, 0.01, "tick")
end
`, i, i%3)
		files[fmt.Sprintf("scripts/cron%02d.lua", i)] = fmt.Sprintf(`
local s = agentd.service("cron%02d")
function s:init()
  self:scheduleAction(self.job, "* * * * *", "every-minute")
  self:setAlarm(self.alarm, agentd.time() + 0.1, "a")
  self:subscribeRegistry(function() end)
end
function s:job() self:publishReport("cron", agentd.time()) end
function s:alarm(name)
  self:scheduleAction(function() end, agentd.IDLE_JOB)
  self:setAlarm(self.alarm, agentd.time() + 0.1, name)
end
`, i)
	}
	return files
}

// rss returns the process's resident memory in bytes.
func rss() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func BenchmarkSoak(b *testing.B) {
	// a daemon of its own: logs and prints are thrown away, so nothing
	// the soak measures grows with them
	dir := b.TempDir()
	write := func(name, src string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p+".new", []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(p+".new", p); err != nil {
			b.Fatal(err)
		}
	}
	write("config.toml", "[agentd]\nscripts = [\"scripts\"]\nhot_reload = true\nshutdown_delay = \"0s\"\n[log]\nlevel = \"warning\"\n")
	for name, src := range soakScripts() {
		write(name, src)
	}
	c, err := config.Load(filepath.Join(dir, "config.toml"))
	if err != nil {
		b.Fatal(err)
	}
	d, err := New(c, Options{Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	if err := d.Start(); err != nil {
		b.Fatal(err)
	}
	defer d.Close(context.Background())
	b.ResetTimer()
	type sample struct {
		at         time.Duration
		rss        int64
		goroutines int
	}
	var samples []sample
	begin := time.Now()
	reload := time.NewTicker(time.Second)
	defer reload.Stop()
	probe := time.NewTicker(5 * time.Second)
	defer probe.Stop()
	end := time.After(*soakFor)
	version := 0
loop:
	for {
		select {
		case <-reload.C:
			version++
			name := fmt.Sprintf("scripts/sub%02d.lua", version%40)
			src := soakScripts()[name] + fmt.Sprintf("\n-- version %d\n", version)
			write(name, src)
		case <-probe.C:
			goruntime.GC()
			samples = append(samples, sample{time.Since(begin), rss(), goruntime.NumGoroutine()})
		case <-end:
			break loop
		}
	}
	b.StopTimer()
	if len(samples) < 4 {
		b.Fatalf("too few samples (%d): run longer", len(samples))
	}
	warm := samples[len(samples)/10:]
	first, last := warm[0], samples[len(samples)-1]
	var maxRSS int64
	maxG := 0
	for _, s := range warm {
		maxRSS, maxG = max(maxRSS, s.rss), max(maxG, s.goroutines)
	}
	for _, s := range samples {
		b.Logf("%6.0fs  rss %6.1f MiB  goroutines %d", s.at.Seconds(), float64(s.rss)/(1<<20), s.goroutines)
	}
	stats := d.Runtime().Stats()
	b.Logf("reloads %d, reports delivered %d, dropped %d, requests %d", version, stats.ReportsDelivered, stats.ReportsDropped, stats.RequestsSent)
	b.ReportMetric(float64(first.rss)/(1<<20), "MiB-rss-after-warmup")
	b.ReportMetric(float64(last.rss)/(1<<20), "MiB-rss-at-end")
	b.ReportMetric(float64(maxRSS)/(1<<20), "MiB-rss-max")
	b.ReportMetric(float64(first.goroutines), "goroutines-after-warmup")
	b.ReportMetric(float64(last.goroutines), "goroutines-at-end")
	b.ReportMetric(float64(maxG), "goroutines-max")
}
