package daemon

import (
	"fmt"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The publisher sends reports numbered 1..total in bursts; the subscriber
// checks that each number is the one after the last, across reloads that
// hand the last number over in snapshot/init.
const seqPublisher = `
local s = agentd.service("seqpub")
local total = tonumber(agentd.config.total)
local burst = tonumber(agentd.config.burst)
function s:init() self.n = 0 self:startTimer(self.tick, 0.01, "tick") end
function s:tick()
  for _ = 1, burst do
    if self.n == total then return end
    self.n = self.n + 1
    self:publishReport("seq", self.n)
  end
  self:startTimer(self.tick, 0.01, "tick")
end
`

func seqSubscriber(version int) string {
	return fmt.Sprintf(`
local s = agentd.service("seqsub")
function s:init(r)
  r = r or {last = 0, received = 0, gaps = 0, dups = 0}
  self.st = r
  self:monitorReports(self.report, "seqpub", "seq")
  print("subscriber version %d at " .. r.last)
end
function s:report(p, subject, n)
  local st = self.st
  st.received = st.received + 1
  if n <= st.last then st.dups = st.dups + 1
  elseif n ~= st.last + 1 then st.gaps = st.gaps + 1 end
  if n > st.last then st.last = n end
  if n == tonumber(agentd.config.total) then
    print(string.format("done received=%%d gaps=%%d dups=%%d", st.received, st.gaps, st.dups))
  end
end
function s:snapshot() return self.st end
`, version)
}

// reloadUnderLoad reloads the subscriber `reloads` times while total
// reports flow, and returns the final counts and the report rate.
func reloadUnderLoad(t testing.TB, debounce string, total, burst, reloads int) (received, gaps, dups int, rate float64, dropped uint64) {
	cfg := fmt.Sprintf("[config.seqpub]\ntotal = %d\nburst = %d\n[config.seqsub]\ntotal = %d\n", total, burst, total)
	h := start(t, debounce, cfg, map[string]string{"scripts/seqsub.lua": seqSubscriber(0)})
	h.expect("subscriber version 0 at 0")
	began := time.Now()
	h.write("scripts/seqpub.lua", seqPublisher)
	for i := 1; i <= reloads; i++ {
		h.write("scripts/seqsub.lua", seqSubscriber(i))
		line := h.out.next(t)
		if !strings.HasPrefix(line, fmt.Sprintf("subscriber version %d at ", i)) {
			t.Fatalf("line %q, want version %d", line, i)
		}
	}
	line := h.out.next(t)
	for strings.HasPrefix(line, "subscriber version") {
		line = h.out.next(t)
	}
	rate = float64(total) / time.Since(began).Seconds()
	if _, err := fmt.Sscanf(line, "done received=%d gaps=%d dups=%d", &received, &gaps, &dups); err != nil {
		t.Fatalf("final line %q: %v", line, err)
	}
	return received, gaps, dups, rate, h.d.Runtime().Stats().ReportsDropped
}

func TestReloadUnderLoadLosesNothing(t *testing.T) {
	const total = 20000
	received, gaps, dups, _, dropped := reloadUnderLoad(t, "30ms", total, 200, 10)
	if received != total || gaps != 0 || dups != 0 || dropped != 0 {
		t.Fatalf("received %d of %d, %d gaps, %d duplicates, %d dropped", received, total, gaps, dups, dropped)
	}
}

// BenchmarkReloadUnderLoad reloads a subscriber 20 times while a publisher
// sends 700 reports every 10 ms (the timer is re-armed after each burst,
// so the rate comes out above 50,000/s; it is reported). It ignores b.N.
func BenchmarkReloadUnderLoad(b *testing.B) {
	const total = 400000
	var ms0, ms1 goruntime.MemStats
	goruntime.ReadMemStats(&ms0)
	cpu0 := processCPU()
	received, gaps, dups, rate, dropped := reloadUnderLoad(b, "100ms", total, 700, 20)
	cpu := processCPU() - cpu0
	goruntime.ReadMemStats(&ms1)
	b.ReportMetric(float64(cpu.Nanoseconds())/total, "cpu-ns/report")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/total, "allocs/report")
	b.ReportMetric(float64(total-received), "lost")
	b.ReportMetric(float64(gaps), "gaps")
	b.ReportMetric(float64(dups), "duplicates")
	b.ReportMetric(float64(dropped), "dropped")
	b.ReportMetric(rate, "reports/s")
}

// processCPU returns the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSaveToServing saves a script 100 times and measures, for each
// save, the time until the new version's init has run (debounce 100 ms,
// the default). It ignores b.N.
func BenchmarkSaveToServing(b *testing.B) {
	const n = 100
	h := start(b, "100ms", "", map[string]string{"scripts/v.lua": "print('v0')\n"})
	var took []time.Duration
	for i := 1; i <= n; i++ {
		began := time.Now()
		h.write("scripts/v.lua", "local s = agentd.service('v')\nfunction s:init() print('v"+strconv.Itoa(i)+"') end\n")
		for {
			if h.out.next(b) == "v"+strconv.Itoa(i) {
				break
			}
		}
		took = append(took, time.Since(began))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[n/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[n*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(took[n-1].Microseconds())/1000, "max-ms")
}
