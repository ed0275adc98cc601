package luabind

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// limiter stops a run of Lua code on one state: a run longer than the
// callback limit, or any run still going while the process's memory is over
// the memory limit. It is the context set on every Lua thread of the state:
// gopher-lua checks Done before each instruction, so closing the current
// channel raises an error in whatever Lua code is running. Unlike a
// cancelled context, a limiter recovers: the next run gets a fresh channel.
//
// The owner goroutine marks runs with begin and end; the watchdog goroutine
// reads start and stops a run by swapping start for stoppedRun and closing
// the channel of that run. Nothing is locked on the owner's side: begin
// reads the clock once, end does one atomic swap.
type limiter struct {
	ch    atomic.Pointer[chan struct{}]
	start atomic.Int64               // clock() when the outermost run began; 0 idle; stoppedRun
	cause atomic.Pointer[limitError] // why the run was stopped, set before its channel closes
	depth int                        // nesting of begin/end (owner goroutine only)
}

// stoppedRun marks, in limiter.start, a run the watchdog stopped.
const stoppedRun = -1

// clockBase anchors clock: monotonic nanoseconds since the package started.
var clockBase = time.Now()

// clock returns a monotonic time in nanoseconds, always > 0.
func clock() int64 { return int64(time.Since(clockBase)) + 1 }

func newLimiter() *limiter {
	l := &limiter{}
	ch := make(chan struct{})
	l.ch.Store(&ch)
	return l
}

// context.Context, as gopher-lua needs it.

func (l *limiter) Deadline() (time.Time, bool) { return time.Time{}, false }
func (l *limiter) Done() <-chan struct{}       { return *l.ch.Load() }
func (l *limiter) Value(any) any               { return nil }
func (l *limiter) Err() error {
	select {
	case <-*l.ch.Load():
		return l.cause.Load()
	default:
		return nil
	}
}

var _ context.Context = (*limiter)(nil)

// limitError is what the stopped Lua code sees as its error message.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

func timeLimitError(limit time.Duration) *limitError {
	return &limitError{fmt.Sprintf("callback stopped: it ran longer than callback_limit (%v)", limit)}
}

func memoryLimitError(heap, limit uint64) *limitError {
	return &limitError{fmt.Sprintf("callback stopped: agentd's heap passed memory_limit (%s, limit %s)",
		formatSize(float64(heap)), formatSize(float64(limit)))}
}

// begin marks the start of a run of Lua code on the owner goroutine.
func (l *limiter) begin() {
	if l.depth == 0 {
		l.start.Store(clock())
	}
	l.depth++
}

// end marks the end of a run; it reports whether the run was stopped.
func (l *limiter) end() bool {
	l.depth--
	if l.depth > 0 || l.start.Swap(0) != stoppedRun {
		return false
	}
	ch := make(chan struct{})
	l.ch.Store(&ch)
	return true
}

// stop stops the run that began at start, if it is still running
// (watchdog goroutine). The channel is read after start: the owner installs
// a fresh channel before it begins the next run, so ch is that run's.
func (l *limiter) stop(start int64, why *limitError) bool {
	ch := l.ch.Load()
	if !l.start.CompareAndSwap(start, stoppedRun) {
		return false
	}
	l.cause.Store(why)
	close(*ch)
	return true
}

// watchdog checks the limiters of a host on a tick, on one goroutine that
// runs while there are limiters.
type watchdog struct {
	limit    time.Duration // callback_limit (0: none)
	memLimit uint64        // memory_limit in bytes (0: none)
	tick     time.Duration
	log      *slog.Logger
	timeErr  *limitError

	// Replaced by tests: the tick source and the heap reading.
	ticker func(time.Duration) (<-chan time.Time, func())
	heap   func() uint64

	mu       sync.Mutex
	limiters map[*limiter]struct{}
	stop     chan struct{}
	done     chan struct{}
}

// watchdogTick is the check interval for a callback limit: a tenth of it,
// at least 5 ms and at most 100 ms (the memory check uses the same tick).
func watchdogTick(limit time.Duration) time.Duration {
	if limit <= 0 {
		return 100 * time.Millisecond
	}
	return min(max(limit/10, 5*time.Millisecond), 100*time.Millisecond)
}

func newWatchdog(limit time.Duration, memLimit uint64, log *slog.Logger) *watchdog {
	return &watchdog{
		limit:    limit,
		memLimit: memLimit,
		tick:     watchdogTick(limit),
		log:      log,
		timeErr:  timeLimitError(limit),
		ticker: func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		},
		heap:     readHeap,
		limiters: make(map[*limiter]struct{}),
	}
}

func (w *watchdog) add(l *limiter) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.limiters[l] = struct{}{}
	if w.stop == nil {
		w.stop, w.done = make(chan struct{}), make(chan struct{})
		go w.run(w.stop, w.done)
	}
}

// remove forgets l; the goroutine ends with the last limiter.
func (w *watchdog) remove(l *limiter) {
	w.mu.Lock()
	delete(w.limiters, l)
	var done chan struct{}
	if len(w.limiters) == 0 && w.stop != nil {
		close(w.stop)
		done = w.done
		w.stop, w.done = nil, nil
	}
	w.mu.Unlock()
	if done != nil {
		<-done
	}
}

func (w *watchdog) run(stop, done chan struct{}) {
	defer close(done)
	ticks, stopTicker := w.ticker(w.tick)
	defer stopTicker()
	var ls []*limiter
	for {
		select {
		case <-stop:
			return
		case <-ticks:
		}
		w.mu.Lock()
		ls = ls[:0]
		for l := range w.limiters {
			ls = append(ls, l)
		}
		w.mu.Unlock()
		w.check(ls, clock())
		clear(ls)
	}
}

// check stops the runs that went on longer than the limit, measured in
// wall time from their start (a late tick stops them late, never counts
// short). When the heap is over the memory limit, it also stops every run
// that has lasted at least one tick: a short callback that happens to be
// running is spared.
func (w *watchdog) check(ls []*limiter, now int64) {
	var over *limitError
	var heap uint64
	if w.memLimit > 0 {
		if heap = w.heap(); heap > w.memLimit {
			over = memoryLimitError(heap, w.memLimit)
		}
	}
	stopped := 0
	for _, l := range ls {
		start := l.start.Load()
		if start <= 0 {
			continue
		}
		ran := time.Duration(now - start)
		switch {
		case w.limit > 0 && ran >= w.limit:
			l.stop(start, w.timeErr)
		case over != nil && ran >= w.tick:
			if l.stop(start, over) {
				stopped++
			}
		}
	}
	if stopped > 0 {
		w.log.Warn("memory_limit passed: stopped the callbacks running for a tick or more",
			"heap", formatSize(float64(heap)), "limit", formatSize(float64(w.memLimit)), "stopped", stopped)
	}
}

// readHeap returns the memory the heap's objects occupy now: live ones and
// dead ones the garbage collector has not freed yet. (The live heap alone
// is known only after a collection, which a fast-growing heap outruns.)
func readHeap() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// formatSize writes a byte count with a binary unit: "64 MiB", "1.5 GiB".
func formatSize(n float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	return strconv.FormatFloat(math.Round(n*10)/10, 'f', -1, 64) + " " + units[i]
}
