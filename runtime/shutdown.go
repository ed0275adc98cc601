package runtime

import (
	"sync"
	"time"
)

// ShutdownPhase is told to shutdown subscribers, numbered as OSE's
// SHUTDOWN_PENDING and SHUTDOWN_ARRIVED.
type ShutdownPhase int

// Shutdown phases.
const (
	ShutdownPending ShutdownPhase = 0
	ShutdownArrived ShutdownPhase = 1
)

type shutdownState struct {
	mu      sync.Mutex
	started bool
	arrived bool
	subs    map[*Service]struct{}
	begun   chan struct{} // closed when the shutdown begins
	done    chan struct{}
}

func (sd *shutdownState) init() {
	sd.subs = make(map[*Service]struct{})
	sd.begun = make(chan struct{})
	sd.done = make(chan struct{})
}

// SubscribeShutdown makes fn receive ShutdownPending and then
// ShutdownArrived when the runtime shuts down in order.
func (s *Service) SubscribeShutdown(fn func(ShutdownPhase)) {
	if s.Destroyed() {
		return
	}
	s.onShut = fn
	s.rt.shutdown.mu.Lock()
	s.rt.shutdown.subs[s] = struct{}{}
	s.rt.shutdown.mu.Unlock()
}

// UnsubscribeShutdown cancels SubscribeShutdown.
func (s *Service) UnsubscribeShutdown() { s.rt.shutdown.unsubscribe(s) }

func (sd *shutdownState) unsubscribe(s *Service) {
	s.onShut = nil
	sd.mu.Lock()
	delete(sd.subs, s)
	sd.mu.Unlock()
}

// ScheduleShutdown starts the orderly shutdown: every shutdown subscriber
// is told ShutdownPending; after delay (negative: the configured
// ShutdownDelay) ShutdownArrived; then every agent stops, destroying its
// services, and Done is closed. Only the first call counts. It may be
// called from any goroutine, including a callback.
func (rt *Runtime) ScheduleShutdown(delay time.Duration) {
	if delay < 0 {
		delay = time.Duration(rt.shutdownDelay.Load())
	}
	rt.shutdown.begin(rt, delay)
}

// ShuttingDown reports whether a shutdown has started.
func (rt *Runtime) ShuttingDown() bool {
	rt.shutdown.mu.Lock()
	defer rt.shutdown.mu.Unlock()
	return rt.shutdown.started
}

func (sd *shutdownState) begin(rt *Runtime, delay time.Duration) {
	sd.mu.Lock()
	if sd.started {
		sd.mu.Unlock()
		if delay == 0 {
			sd.arrive(rt)
		}
		return
	}
	sd.started = true
	close(sd.begun)
	rt.mu.Lock() // lock order: shutdown, then runtime (nothing takes them the other way)
	rt.closing = true
	rt.mu.Unlock()
	sd.mu.Unlock()
	rt.log.Info("shutdown scheduled", "delay", delay)
	sd.tell(ShutdownPending)
	if delay == 0 {
		sd.arrive(rt)
		return
	}
	time.AfterFunc(delay, func() { sd.arrive(rt) })
}

func (sd *shutdownState) tell(phase ShutdownPhase) {
	sd.mu.Lock()
	subs := make([]*Service, 0, len(sd.subs))
	for s := range sd.subs {
		subs = append(subs, s)
	}
	sd.mu.Unlock()
	for _, s := range subs {
		s.agent.mb.push(entry{kind: entryFunc, fn: func() {
			if fn := s.onShut; fn != nil && !s.Destroyed() {
				fn(phase)
			}
		}}, false)
	}
}

func (sd *shutdownState) arrive(rt *Runtime) {
	sd.mu.Lock()
	if sd.arrived {
		sd.mu.Unlock()
		return
	}
	sd.arrived = true
	sd.mu.Unlock()
	sd.tell(ShutdownArrived)
	var last []*Agent
	var first []*Agent
	for _, a := range rt.agentsSnapshot() {
		if a.opts.StopLast {
			last = append(last, a)
		} else {
			first = append(first, a)
			a.Stop()
		}
	}
	go func() {
		for _, a := range first {
			<-a.done
		}
		for _, a := range last {
			a.Stop()
		}
		rt.wg.Wait()
		close(sd.done)
	}()
}
