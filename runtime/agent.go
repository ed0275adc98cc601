package runtime

import (
	"errors"
	"fmt"
	"log/slog"
	goruntime "runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned for work offered to an agent or runtime that has stopped.
var ErrClosed = errors.New("runtime: closed")

// An Agent is one mailbox and the goroutine that owns it. Every callback of
// the agent's services runs on the owner goroutine, one at a time, in the
// order its events arrived; nothing else runs agent code. An idle agent has
// no goroutine: one is started when work arrives and ends when the work is
// done, and never two at once, so "the owner goroutine" is whichever one
// currently runs the agent. A Lua script is one agent; a Go program may
// create as many as it likes.
//
// Methods of Agent and of its Services must be called on the owner goroutine
// (inside a callback, or a function given to Post or Do) unless their
// documentation says otherwise.
type Agent struct {
	rt   *Runtime
	name string
	log  *slog.Logger
	opts AgentOptions
	mb   *mailbox

	// Owned by the owner goroutine.
	services []*Service
	priority []*action // FIFO of priority jobs
	idle     []*action // FIFO of idle jobs
	idleLive int       // idle jobs left after the last compaction
	stopping bool
	// congested lists the mailboxes this agent's registry changes pushed
	// over their bound of announcements (see backpressure).
	congested []*Agent
	waiting   atomic.Bool // in backpressure
	onExit    []func()
	onPanic   func(v any, stack []byte) bool

	// timers, alarms and cron actions of the agent's services, by due
	// time (owner goroutine only); one Go timer wakes the agent for the
	// earliest (see timers.go)
	timers     timerHeap
	wakeTimer  *time.Timer
	wakeMu     sync.Mutex
	wakePosted bool

	stopAsked atomic.Bool // Stop was called: queued announcements are skipped

	done chan struct{}
}

// AgentOptions configure one agent; the zero value gives the runtime's defaults.
type AgentOptions struct {
	// MailboxSize bounds the reports and requests queued for the agent
	// (0: Options.MailboxSize).
	MailboxSize int
	// StopLast makes an orderly shutdown stop this agent only after every
	// other agent has stopped, and keeps it handling every entry until
	// then: what the others do while they stop (destroy hooks' last
	// reports, withdrawals) still reaches it. For agents that carry the
	// others' traffic, such as the exchange.
	StopLast bool
	// NoWait exempts the agent from back-pressure (see Agent.backpressure):
	// its registry changes never wait for slow subscribers. For agents
	// that must keep reading from elsewhere, such as the exchange.
	NoWait bool
}

// NewAgent starts an agent. name is used in logs (for a script, its file name).
func (rt *Runtime) NewAgent(name string) (*Agent, error) {
	return rt.NewAgentWith(name, AgentOptions{})
}

// NewAgentWith starts an agent with its own options.
func (rt *Runtime) NewAgentWith(name string, opts AgentOptions) (*Agent, error) {
	a := &Agent{
		rt:   rt,
		name: name,
		log:  rt.log.With("agent", name),
		opts: opts,
		done: make(chan struct{}),
	}
	size := opts.MailboxSize
	if size <= 0 {
		size = rt.opts.MailboxSize
	}
	a.mb = newMailbox(size, a.run)
	rt.mu.Lock()
	if rt.closing {
		rt.mu.Unlock()
		return nil, ErrClosed
	}
	rt.agents[a] = struct{}{}
	rt.wg.Add(1)
	rt.mu.Unlock()
	return a, nil
}

// Name returns the name given to NewAgent.
func (a *Agent) Name() string { return a.name }

// Runtime returns the runtime the agent belongs to.
func (a *Agent) Runtime() *Runtime { return a.rt }

// Logger returns the agent's logger.
func (a *Agent) Logger() *slog.Logger { return a.log }

// Depth returns how many entries are queued or being processed. It may be
// called from any goroutine.
func (a *Agent) Depth() int { return int(a.mb.depth.Load()) }

// Done is closed once the agent has stopped and its services are gone.
func (a *Agent) Done() <-chan struct{} { return a.done }

// Post queues fn to run on the owner goroutine. It may be called from any
// goroutine; it is never refused for lack of room, only when the agent has
// stopped.
func (a *Agent) Post(fn func()) error {
	if !a.mb.push(entry{kind: entryFunc, fn: fn}, false) {
		return ErrClosed
	}
	return nil
}

// Do runs fn on the owner goroutine and waits for it to return. It must not
// be called from the owner goroutine itself.
func (a *Agent) Do(fn func()) error {
	ch := make(chan struct{})
	if err := a.Post(func() { defer close(ch); fn() }); err != nil {
		return err
	}
	select {
	case <-ch:
		return nil
	case <-a.done:
		select {
		case <-ch:
			return nil
		default:
			return ErrClosed
		}
	}
}

// Stop asks the agent to stop: its services are destroyed (destroy hooks
// run, services are withdrawn), OnExit functions run, and Done is closed.
// It may be called from any goroutine, and more than once.
func (a *Agent) Stop() {
	a.stopAsked.Store(true)
	a.mb.push(entry{kind: entryStop}, false)
}

// OnExit registers fn to run on the owner goroutine after the agent's
// services are destroyed, as the last thing the agent does.
func (a *Agent) OnExit(fn func()) { a.onExit = append(a.onExit, fn) }

// OnPanic sets the function told of a Go panic in one of the agent's
// callbacks. If it returns true the panic has been reported; otherwise the
// runtime logs it. Either way the agent goes on with its next event.
func (a *Agent) OnPanic(fn func(v any, stack []byte) bool) { a.onPanic = fn }

// Services returns the agent's live services in creation order.
func (a *Agent) Services() []*Service {
	out := make([]*Service, 0, len(a.services))
	for _, s := range a.services {
		if !s.Destroyed() {
			out = append(out, s)
		}
	}
	return out
}

// run is one activation of the agent: it processes entries and jobs until
// there is nothing left, then parks the agent (or ends it, once stopped).
func (a *Agent) run() {
	for {
		batch := a.mb.take()
		if len(batch) == 0 {
			if a.runJob(&a.priority) || a.runJob(&a.idle) {
				continue
			}
			if a.mb.park() {
				return
			}
			continue
		}
		for i := 0; i < len(batch); {
			i = a.runBatch(batch, i)
		}
		a.mb.recycle(batch)
		if a.stopping {
			a.exit()
			return
		}
	}
}

// runBatch processes batch from index i and returns the index to resume
// from; it returns early, past the offending entry, when a callback panics.
func (a *Agent) runBatch(batch []entry, i int) (next int) {
	defer func() {
		if v := recover(); v != nil {
			a.panicked(v)
			a.mb.done(&batch[i])
			next = i + 1
		}
	}()
	for ; i < len(batch); i++ {
		a.runPriority()
		e := &batch[i]
		switch {
		case a.stopping:
			a.refuse(e)
		case e.kind == entryNotice && a.stopAsked.Load() && !a.opts.StopLast:
			// the agent is about to stop: its services are going away,
			// and a backlog of announcements must not hold up its stop
		default:
			a.dispatch(e)
		}
		a.mb.done(e)
		if len(a.congested) > 0 {
			a.backpressure() // between entries: no callback is running
		}
	}
	return i
}

// runPriority runs the priority jobs that are queued now, before the next
// mailbox entry. Jobs they schedule wait for the next entry to be
// processed first, so a priority job that reschedules itself cannot
// starve the mailbox (or an orderly stop).
func (a *Agent) runPriority() {
	n := len(a.priority)
	if n == 0 {
		return
	}
	due := a.priority[:n:n]
	a.priority = a.priority[n:]
	if len(a.priority) == 0 {
		a.priority = nil
	}
	for i, act := range due {
		due[i] = nil
		if a.stopping {
			break
		}
		if act.current() {
			a.safely(func() { act.fire() })
		}
	}
}

func (a *Agent) panicked(v any) {
	a.rt.stats.CallbackErrors.Add(1)
	buf := make([]byte, 16<<10)
	buf = buf[:goruntime.Stack(buf, false)]
	if a.onPanic != nil && a.onPanic(v, buf) {
		return
	}
	a.log.Error("callback panicked", "panic", fmt.Sprint(v), "stack", string(buf))
}

func (a *Agent) dispatch(e *entry) {
	switch e.kind {
	case entryFunc, entryNotice:
		e.fn()
	case entryReport:
		a.deliverReport(e.sub, e.msg)
	case entryRequest:
		a.deliverRequest(e.req)
	case entryResponse:
		a.deliverResponse(e.req)
	case entryStop:
		a.stop()
	}
}

// refuse disposes of an entry that arrives after the agent stopped: a
// request is answered with a failure so that no caller waits in silence.
func (a *Agent) refuse(e *entry) {
	switch e.kind {
	case entryRequest:
		e.req.failWithdrawn()
	case entryReport:
		a.rt.stats.ReportsDropped.Add(1)
	}
}

// runJob runs the first current job of q, if any, and reports whether it
// ran one. A Go panic in the job is reported and does not touch the
// mailbox entries around it.
func (a *Agent) runJob(q *[]*action) bool {
	for len(*q) > 0 {
		act := (*q)[0]
		(*q)[0] = nil
		*q = (*q)[1:]
		if len(*q) == 0 {
			*q = nil
		}
		if act.current() {
			a.safely(func() { act.fire() })
			return true
		}
	}
	return false
}

func (a *Agent) stop() {
	if a.stopping {
		return
	}
	a.stopping = true // from now on no new service (a destroy hook may try)
	for _, s := range slices.Clone(a.services) {
		s.Destroy()
	}
}

func (a *Agent) exit() {
	a.stopping = true
	if a.wakeTimer != nil {
		a.wakeTimer.Stop()
	}
	a.timers = nil
	a.priority, a.idle = nil, nil
	for _, fn := range a.onExit {
		a.safely(fn)
	}
	for _, e := range a.mb.close() {
		a.refuse(&e)
		a.mb.done(&e)
	}
	a.rt.mu.Lock()
	delete(a.rt.agents, a)
	a.rt.mu.Unlock()
	close(a.done)
	a.rt.wg.Done()
}

// safely runs fn, reporting a panic instead of propagating it.
func (a *Agent) safely(fn func()) {
	defer func() {
		if v := recover(); v != nil {
			a.panicked(v)
		}
	}()
	fn()
}

// MaxBackpressure bounds how long one registry change (a service
// registered, destroyed, or joining or leaving a group) waits for a slow
// subscriber; after it the agent goes on, and the log says so.
const MaxBackpressure = 10 * time.Second

// backpressure makes the agent wait, after the entry that made a registry
// change of its own (never inside a callback, so the wait counts against
// no callback's time limit), until every other agent it pushed over the bound of queued
// announcements (Options.MailboxSize) has worked them down to half. So a
// service that churns cannot grow a slow subscriber's backlog without
// bound, and announcements are still never dropped. The wait ends early
// when a shutdown begins or the subscriber stops, and is skipped for a
// subscriber that is itself waiting, so agents that announce to each
// other cannot wait on each other in a circle.
func (a *Agent) backpressure() {
	if len(a.congested) == 0 {
		return
	}
	if a.opts.NoWait {
		a.congested = nil
		return
	}
	list := a.congested
	a.congested = nil
	a.waiting.Store(true)
	defer a.waiting.Store(false)
	timer := time.NewTimer(MaxBackpressure)
	defer timer.Stop()
	for _, to := range list {
		if to.waiting.Load() {
			continue
		}
		if !to.mb.waitDrained(a.rt.shutdown.begun, timer.C) {
			a.log.Warn("a subscriber is slow to take registry announcements: going on without waiting further",
				"subscriber", to.name, "queued", to.mb.notices.Load(), "waited", MaxBackpressure)
			return
		}
	}
}

// agentsSnapshot returns the live agents.
func (rt *Runtime) agentsSnapshot() []*Agent {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	out := make([]*Agent, 0, len(rt.agents))
	for a := range rt.agents {
		out = append(out, a)
	}
	return out
}
