package luabind

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentd/agentd/internal/logging"
	"github.com/agentd/agentd/runtime"
)

// watchedHost returns a host whose watchdog ticks only when the test sends
// on the returned channel, and whose heap reads heap.
func watchedHost(t *testing.T, opts Options, heap *atomic.Uint64) (*Host, chan time.Time, *syncBuffer, *syncBuffer) {
	t.Helper()
	var out, logs syncBuffer
	rt := runtime.New(runtime.Options{Logger: logging.New(&logs, "text", logging.LevelDebug)})
	t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })
	opts.Stdout = &out
	h := NewHost(rt, opts)
	ticks := make(chan time.Time)
	h.wd.ticker = func(time.Duration) (<-chan time.Time, func()) { return ticks, func() {} }
	h.wd.heap = heap.Load
	return h, ticks, &out, &logs
}

func loadSource(t *testing.T, h *Host, name, src string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Load(p); err != nil {
		t.Fatal(err)
	}
}

// waitFor waits until buf contains want; the deadline only keeps a broken
// build from hanging.
func waitFor(t *testing.T, buf *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(buf.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("never got %q; have:\n%s", want, buf.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

const spinner = `
local s = agentd.service("spin")
function s:init() self:startTimer(self.spin, 0, "spin") end
function s:spin()
  print("spinning")
  while true do end
end
function s:ping() return "pong" end
s:exportMethod("ping")
`

// The callback limit is wall time from the start of the run: when the
// watchdog's ticks come late (a loaded machine), the first tick after the
// limit stops the run, however few ticks there were.
func TestCallbackLimitIsWallTime(t *testing.T) {
	const limit = 200 * time.Millisecond
	h, ticks, out, logs := watchedHost(t, Options{CallbackLimit: limit}, new(atomic.Uint64))
	loadSource(t, h, "spin.lua", spinner)
	waitFor(t, out, "spinning\n")
	time.Sleep(limit + 50*time.Millisecond) // the run has now lasted longer than the limit
	ticks <- time.Now()                     // one late tick
	waitFor(t, logs, "callback stopped: it ran longer than callback_limit (200ms)")
}

// Over memory_limit, the watchdog stops the runs that have lasted a tick or
// more; the agent goes on.
func TestMemoryLimitStopsLongRuns(t *testing.T) {
	var heap atomic.Uint64
	h, ticks, out, logs := watchedHost(t, Options{MemoryLimit: 1 << 30}, &heap)
	loadSource(t, h, "spin.lua", spinner)
	loadSource(t, h, "other.lua", `
local s = agentd.service("other")
function s:init() self:startTimer(self.later, 0.2, "later") end
function s:later() print("other:", self:call("spin", "ping")) end
`)
	waitFor(t, out, "spinning\n")
	ticks <- time.Now() // under the limit: nothing happens
	time.Sleep(h.wd.tick)
	heap.Store(3 << 29)
	ticks <- time.Now()
	waitFor(t, logs, "callback stopped: agentd's heap passed memory_limit (1.5 GiB, limit 1 GiB)")
	waitFor(t, logs, `msg="memory_limit passed: stopped the callbacks running for a tick or more" heap="1.5 GiB" limit="1 GiB" stopped=1`)
	heap.Store(0)
	waitFor(t, out, "other:\tpong\n")
}

// A run shorter than a tick is spared by the memory check; the time limit
// stops only runs older than the limit.
func TestWatchdogCheck(t *testing.T) {
	var heap atomic.Uint64
	w := newWatchdog(time.Second, 100, logging.Discard())
	w.heap = heap.Load
	now := clock() + int64(10*time.Second)
	old, young, idle := newLimiter(), newLimiter(), newLimiter()
	old.start.Store(now - int64(500*time.Millisecond))
	young.start.Store(now - int64(time.Millisecond))
	ls := []*limiter{old, young, idle}
	stopped := func(l *limiter) bool {
		select {
		case <-l.Done():
			return true
		default:
			return false
		}
	}

	w.check(ls, now)
	if stopped(old) || stopped(young) || stopped(idle) {
		t.Fatal("stopped a run under both limits")
	}
	heap.Store(101)
	w.check(ls, now)
	if !stopped(old) || stopped(young) || stopped(idle) {
		t.Fatalf("memory check: stopped old %v young %v idle %v; want only old", stopped(old), stopped(young), stopped(idle))
	}
	if got := old.Err().Error(); got != "callback stopped: agentd's heap passed memory_limit (101 B, limit 100 B)" {
		t.Errorf("error %q", got)
	}
	heap.Store(0)
	w.check(ls, now+int64(time.Second))
	if !stopped(young) || young.Err().Error() != "callback stopped: it ran longer than callback_limit (1s)" {
		t.Errorf("time check: young stopped %v (%v)", stopped(young), young.Err())
	}

	// the owner ends a stopped run: the next run gets a fresh channel
	old.depth = 1
	if !old.end() || stopped(old) || old.Err() != nil {
		t.Error("a new run after a stop starts stopped")
	}
	old.begin()
	heap.Store(101) // still over memory_limit: a run younger than a tick is spared
	w.check(ls, clock())
	if stopped(old) {
		t.Error("a fresh run was stopped by the memory check")
	}
}
