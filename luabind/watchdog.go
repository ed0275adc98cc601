package luabind

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// limiter stops a Lua callback that runs longer than the callback limit.
// It is the context set on every Lua thread of one state: gopher-lua checks
// Done before each instruction, so closing the current channel raises an
// error in whatever Lua code is running. Unlike a cancelled context, a
// limiter recovers: the next run gets a fresh channel.
type limiter struct {
	mu      sync.Mutex
	ch      atomic.Pointer[chan struct{}]
	depth   int    // nesting of begin/end
	gen     uint64 // incremented at every outermost begin
	running bool
	stopped bool
	limit   time.Duration

	// watchdog bookkeeping, touched only by the watchdog goroutine
	seenGen   uint64
	seenTicks int
}

func newLimiter(limit time.Duration) *limiter {
	l := &limiter{limit: limit}
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
		return &limitError{limit: l.limit}
	default:
		return nil
	}
}

var _ context.Context = (*limiter)(nil)

// limitError is what the stopped Lua code sees as its error message.
type limitError struct{ limit time.Duration }

func (e *limitError) Error() string {
	return fmt.Sprintf("callback stopped: it ran longer than callback_limit (%v)", e.limit)
}

// begin marks the start of a run of Lua code on the owner goroutine.
func (l *limiter) begin() {
	l.mu.Lock()
	if l.depth == 0 {
		l.gen++
		l.running = true
		l.renew()
	}
	l.depth++
	l.mu.Unlock()
}

// end marks the end of a run; it reports whether the run was stopped.
func (l *limiter) end() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.depth--
	if l.depth > 0 {
		return false
	}
	l.running = false
	stopped := l.stopped
	l.renew()
	return stopped
}

// renew installs a fresh channel after a stop; mu is held.
func (l *limiter) renew() {
	if l.stopped {
		ch := make(chan struct{})
		l.ch.Store(&ch)
		l.stopped = false
	}
}

// check is called by the watchdog every tick; it stops a run that has
// been going for at least the limit.
func (l *limiter) check(tick time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.running || l.gen != l.seenGen {
		l.seenGen, l.seenTicks = l.gen, 0
		return
	}
	l.seenTicks++
	if time.Duration(l.seenTicks)*tick >= l.limit && !l.stopped {
		l.stopped = true
		close(*l.ch.Load())
	}
}

// watchdog ticks while there are limiters and checks each.
type watchdog struct {
	tick time.Duration

	mu       sync.Mutex
	limiters map[*limiter]struct{}
	stop     chan struct{}
	done     chan struct{}
}

func newWatchdog(limit time.Duration) *watchdog {
	return &watchdog{tick: min(max(limit/10, 5*time.Millisecond), time.Second), limiters: make(map[*limiter]struct{})}
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
	t := time.NewTicker(w.tick)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		w.mu.Lock()
		ls := make([]*limiter, 0, len(w.limiters))
		for l := range w.limiters {
			ls = append(ls, l)
		}
		w.mu.Unlock()
		for _, l := range ls {
			l.check(w.tick)
		}
	}
}
