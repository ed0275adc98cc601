package leakcheck

import (
	"strings"
	"testing"
	"time"
)

func TestCheckFindsAndForgetsGoroutines(t *testing.T) {
	stop := make(chan struct{})
	go func() { <-stop }()
	msg := Check(50 * time.Millisecond)
	if !strings.Contains(msg, "1 goroutines leaked") || !strings.Contains(msg, "TestCheckFindsAndForgetsGoroutines") {
		t.Fatalf("leak not reported: %q", msg)
	}
	close(stop)
	if msg := Check(time.Second); msg != "" {
		t.Fatalf("reported after the goroutine ended: %s", msg)
	}
}
