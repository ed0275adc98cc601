package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Runtime. The zero value is usable: every field has a
// default, applied in one place (withDefaults).
type Options struct {
	// Logger receives the runtime's log; a child logger is made per agent.
	// Default: slog.Default().
	Logger *slog.Logger
	// ProcessIdentity names this process in agent identities. Default: host:pid.
	ProcessIdentity string
	// MailboxSize bounds the reports and requests queued for one agent.
	// Default: 10000.
	MailboxSize int
	// RequestTimeout is the default timeout of a blocking call. Default: 30s.
	RequestTimeout time.Duration
	// ShutdownDelay is the time between SHUTDOWN_PENDING and
	// SHUTDOWN_ARRIVED when ScheduleShutdown is given a negative delay.
	// Default: 1s.
	ShutdownDelay time.Duration
}

// Defaults of Options.
const (
	DefaultMailboxSize    = 10000
	DefaultRequestTimeout = 30 * time.Second
	DefaultShutdownDelay  = time.Second
)

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ProcessIdentity == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "localhost"
		}
		o.ProcessIdentity = host + ":" + strconv.Itoa(os.Getpid())
	}
	if o.MailboxSize <= 0 {
		o.MailboxSize = DefaultMailboxSize
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.ShutdownDelay < 0 {
		o.ShutdownDelay = 0
	} else if o.ShutdownDelay == 0 {
		o.ShutdownDelay = DefaultShutdownDelay
	}
	return o
}

// A Runtime hosts agents and their services: it owns the service registry,
// routes reports and requests between services, and runs the orderly
// shutdown. All its methods may be called from any goroutine.
type Runtime struct {
	opts Options
	log  *slog.Logger
	// live settings, changeable while running
	requestTimeout atomic.Int64 // time.Duration
	shutdownDelay  atomic.Int64 // time.Duration
	process        string
	seq            atomic.Uint64
	reg            registry
	stats          counters

	mu      sync.Mutex
	agents  map[*Agent]struct{}
	closing bool
	wg      sync.WaitGroup

	shutdown shutdownState

	// active exchange connections by key (see AnnounceConnection)
	connMu  sync.Mutex
	conns   map[string]ConnectionEvent
	connGen uint64 // connection events announced so far
}

// New returns a runtime with no agents.
func New(opts Options) *Runtime {
	opts = opts.withDefaults()
	rt := &Runtime{
		opts:    opts,
		log:     opts.Logger,
		process: opts.ProcessIdentity,
		agents:  make(map[*Agent]struct{}),
	}
	rt.requestTimeout.Store(int64(opts.RequestTimeout))
	rt.shutdownDelay.Store(int64(opts.ShutdownDelay))
	rt.reg.init()
	rt.shutdown.init()
	return rt
}

// ProcessIdentity returns the identity of this process ("host:pid").
func (rt *Runtime) ProcessIdentity() string { return rt.process }

// Logger returns the runtime's logger.
func (rt *Runtime) Logger() *slog.Logger { return rt.log }

// RequestTimeout returns the default timeout of blocking calls.
func (rt *Runtime) RequestTimeout() time.Duration { return time.Duration(rt.requestTimeout.Load()) }

// SetRequestTimeout changes the default timeout of blocking calls for
// every service that has not set its own. d must be positive.
func (rt *Runtime) SetRequestTimeout(d time.Duration) {
	if d > 0 {
		rt.requestTimeout.Store(int64(d))
	}
}

// SetShutdownDelay changes the delay ScheduleShutdown uses by default
// (a negative d means none).
func (rt *Runtime) SetShutdownDelay(d time.Duration) { rt.shutdownDelay.Store(int64(max(d, 0))) }

// UniqueID returns a string unique within this process and, because it
// carries the process identity, across processes.
func (rt *Runtime) UniqueID() string {
	return "$" + strconv.FormatUint(rt.seq.Add(1), 36) + "@" + rt.process
}

// nextIdentity returns a new agent identity, "N@host:pid".
func (rt *Runtime) nextIdentity() string {
	return strconv.FormatUint(rt.seq.Add(1), 10) + "@" + rt.process
}

// nextName returns a generated timer, alarm or action name.
func (rt *Runtime) nextName(kind string) string {
	return "$" + kind + "?" + strconv.FormatUint(rt.seq.Add(1), 36)
}

// Stats is a snapshot of the runtime's counters.
type Stats struct {
	ReportsPublished uint64 // reports published (one per subject)
	ReportsDelivered uint64 // reports queued for a subscriber
	ReportsDropped   uint64 // reports not queued because the subscriber's mailbox was full
	RequestsSent     uint64 // requests sent
	RequestsRefused  uint64 // requests refused because the target's mailbox was full
	Failures         uint64 // failures delivered to requesters
	CallbackErrors   uint64 // callbacks that raised an error or panicked
	Agents           int    // live agents
	MailboxDepth     int    // entries queued over all agents
}

type counters struct {
	ReportsPublished atomic.Uint64
	ReportsDelivered atomic.Uint64
	ReportsDropped   atomic.Uint64
	RequestsSent     atomic.Uint64
	RequestsRefused  atomic.Uint64
	Failures         atomic.Uint64
	CallbackErrors   atomic.Uint64
}

// Stats returns the current counters.
func (rt *Runtime) Stats() Stats {
	s := Stats{
		ReportsPublished: rt.stats.ReportsPublished.Load(),
		ReportsDelivered: rt.stats.ReportsDelivered.Load(),
		ReportsDropped:   rt.stats.ReportsDropped.Load(),
		RequestsSent:     rt.stats.RequestsSent.Load(),
		RequestsRefused:  rt.stats.RequestsRefused.Load(),
		Failures:         rt.stats.Failures.Load(),
		CallbackErrors:   rt.stats.CallbackErrors.Load(),
	}
	for _, a := range rt.agentsSnapshot() {
		s.Agents++
		s.MailboxDepth += a.Depth()
	}
	return s
}

// CountCallbackError records a callback error that the caller has already
// reported (luabind counts Lua errors through it).
func (rt *Runtime) CountCallbackError() { rt.stats.CallbackErrors.Add(1) }

// Shutdown stops every agent now: shutdown subscribers are told
// SHUTDOWN_PENDING and SHUTDOWN_ARRIVED without delay, every service is
// destroyed, and Shutdown waits until every agent has stopped or ctx is
// done. It is idempotent; after it returns, new agents are refused.
func (rt *Runtime) Shutdown(ctx context.Context) error {
	rt.shutdown.begin(rt, 0)
	select {
	case <-rt.shutdown.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("runtime: shutdown: %w (%d agents still running)", ctx.Err(), len(rt.agentsSnapshot()))
	}
}

// Done is closed when an orderly shutdown (ScheduleShutdown or Shutdown) has
// finished: every agent has stopped.
func (rt *Runtime) Done() <-chan struct{} { return rt.shutdown.done }
