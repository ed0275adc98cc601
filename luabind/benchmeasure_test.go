package luabind

import (
	goruntime "runtime"
	"syscall"
	"testing"
	"time"
)

// A meter measures what a stretch of a benchmark costs the whole process:
// CPU time (user + system, from getrusage, so every goroutine and the
// garbage collector count) and heap allocations. On a machine shared with
// other work, CPU time per operation holds far better than wall-clock
// rates. This file is also compiled into the baseline's test binary by
// cmd/benchcmp: it must only use what every version of the package has.
type meter struct {
	cpu  time.Duration
	mem  goruntime.MemStats
	wall time.Time
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startMeter reads the counters; call it right before the measured loop.
func startMeter() *meter {
	m := &meter{}
	goruntime.ReadMemStats(&m.mem)
	m.cpu = processCPU()
	m.wall = time.Now()
	return m
}

// report adds, per unit (e.g. "delivery" for n deliveries), the CPU time,
// the allocations and the bytes allocated since startMeter, and the rate.
func (m *meter) report(b *testing.B, n int, unit string) {
	cpu := processCPU() - m.cpu
	wall := time.Since(m.wall)
	var after goruntime.MemStats
	goruntime.ReadMemStats(&after)
	if n <= 0 {
		return
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/"+unit)
	b.ReportMetric(float64(after.Mallocs-m.mem.Mallocs)/float64(n), "allocs/"+unit)
	b.ReportMetric(float64(after.TotalAlloc-m.mem.TotalAlloc)/float64(n), "B/"+unit)
	b.ReportMetric(float64(n)/wall.Seconds(), unit+"/s")
	b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cores")
}
