package daemon

import (
	"runtime/debug"
	"testing"
)

// TestGCPercent: agentd sets its garbage collector target unless GOGC
// is in the environment.
func TestGCPercent(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	setGCPercent(func(k string) string {
		if k == "GOGC" {
			return "50" // Go has applied it at start
		}
		return ""
	})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, the target became %d", got)
	}
	setGCPercent(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("without GOGC, the target is %d, want %d", got, gcPercent)
	}
}
