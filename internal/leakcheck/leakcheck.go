// Package leakcheck finds goroutines that tests leave behind. A test
// package's TestMain runs its tests through Main.
package leakcheck

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

// ignored are goroutines of the standard library and the testing
// framework that live as long as the process.
var ignored = []string{
	"testing.(*M).",
	"testing.tRunner",
	"testing.runFuzzing",
	"os/signal.loop",
	"leakcheck.goroutines",
}

// goroutines returns the stacks of the goroutines that are not ignored.
func goroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
outer:
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, ig := range ignored {
			if strings.Contains(g, ig) {
				continue outer
			}
		}
		out = append(out, g)
	}
	return out
}

// Check waits up to wait for every goroutine that is not ignored to end,
// and describes the ones still running ("" if none).
func Check(wait time.Duration) string {
	deadline := time.Now().Add(wait)
	for {
		left := goroutines()
		if len(left) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			return fmt.Sprintf("%d goroutines leaked:\n\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Main runs the tests and then fails the run if goroutines leaked:
//
//	func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m, os.Stderr)) }
func Main(m *testing.M, w io.Writer) int {
	code := m.Run()
	if code == 0 {
		if msg := Check(5 * time.Second); msg != "" {
			fmt.Fprintln(w, msg)
			return 1
		}
	}
	return code
}
