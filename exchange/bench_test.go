package exchange

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentd/agentd/runtime"
)

// BenchmarkReportsAcrossRuntimes: a Go publisher in one runtime, a Go
// subscriber in another, through a hub in the first (both in this
// process, so the figure includes both sides' CPU).
func BenchmarkReportsAcrossRuntimes(b *testing.B) {
	a := newNode(b, "a:1")
	c := newNode(b, "c:3")
	url := a.hub(EndpointConfig{})
	c.client(EndpointConfig{Connect: []string{url}})
	pub := a.service("pub", nil)
	var got atomic.Int64
	c.service("sub", func(s *runtime.Service) {
		s.MonitorReports(runtime.Named("pub"), "*", func(runtime.Report) { got.Add(1) })
	})
	// wait until the subscription has reached the publisher: a probe
	// report arrives
	for got.Load() == 0 {
		pub.Publish("probe", nil, 0)
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond)
	got.Store(0)
	content := map[string]any{"a": int64(1), "b": "two", "c": 3.5, "d": true, "e": []any{int64(1), int64(2)}}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		pub.Publish("s", content, 0)
		for int64(i)-got.Load() > 5000 { // within the subscriber's mailbox (10,000)
			time.Sleep(50 * time.Microsecond)
		}
	}
	for got.Load() < int64(b.N) {
		time.Sleep(50 * time.Microsecond)
		if time.Since(start) > time.Minute {
			b.Fatalf("%d of %d arrived", got.Load(), b.N)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reports/s")
}
