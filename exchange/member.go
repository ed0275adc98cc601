package exchange

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/agentd/agentd/runtime"
)

// A Member is a Go program's place in a service space, without Lua: it
// joins through one client endpoint and can list services, subscribe to
// reports, send requests and publish as a service of its own. It is a
// runtime of its own with an exchange, so everything of package runtime
// is available through Runtime as well. Its methods may be called from
// any goroutine.
type Member struct {
	rt  *runtime.Runtime
	x   *Exchange
	a   *runtime.Agent
	svc *runtime.Service // the member's own service, through which it subscribes and calls

	mu     sync.Mutex
	closed bool
}

// MemberOptions configure a Member.
type MemberOptions struct {
	// Name is the member's own service name (default "member"); its
	// audience is "*", so the services it calls and subscribes to see it.
	Name string
	// ProcessIdentity names the member's process (default host:pid).
	ProcessIdentity string
	Logger          *slog.Logger
}

// Join joins the service space of one client endpoint (cfg.Role is
// taken as client). It returns once the endpoint is started; the
// connection may still be on its way (see WaitService).
func Join(cfg EndpointConfig, opts MemberOptions) (*Member, error) {
	if opts.Name == "" {
		opts.Name = "member"
	}
	rt := runtime.New(runtime.Options{Logger: opts.Logger, ProcessIdentity: opts.ProcessIdentity})
	m := &Member{rt: rt, x: New(rt, Options{Logger: opts.Logger, Version: "member"})}
	a, err := rt.NewAgent(opts.Name)
	if err != nil {
		return nil, err
	}
	m.a = a
	if err := a.Do(func() {
		m.svc, err = a.NewService(runtime.ServiceConfig{Name: opts.Name, Audience: runtime.AudienceAll})
		if err == nil {
			err = m.svc.Register()
		}
	}); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	cfg.Role = RoleClient
	if err := m.x.Add(cfg); err != nil {
		_ = rt.Shutdown(context.Background())
		return nil, err
	}
	return m, nil
}

// Runtime returns the member's runtime.
func (m *Member) Runtime() *runtime.Runtime { return m.rt }

// Exchange returns the member's exchange.
func (m *Member) Exchange() *Exchange { return m.x }

// Service returns the member's own service: Publish on it (from any
// goroutine) publishes as the member.
func (m *Member) Service() *runtime.Service { return m.svc }

// Services returns every service visible to the member, remote and its own.
func (m *Member) Services() []*runtime.Binding { return m.rt.ServiceAgents() }

// WaitService waits until a service called name is visible and returns it.
func (m *Member) WaitService(ctx context.Context, name string) (*runtime.Binding, error) {
	found := make(chan *runtime.Binding, 1)
	if err := m.a.Do(func() {
		m.svc.SubscribeServiceName(name, func(ev runtime.RegistryEvent) {
			if ev.Status == runtime.Available && ev.Group == "" {
				select {
				case found <- ev.Binding:
				default:
				}
			}
		})
	}); err != nil {
		return nil, err
	}
	defer func() { _ = m.a.Post(func() { m.svc.UnsubscribeServiceName(name) }) }()
	select {
	case b := <-found:
		return b, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("exchange: waiting for %q: %w", name, ctx.Err())
	}
}

// Subscribe subscribes the member to reports of target whose subject
// matches pattern; fn runs on the member's agent goroutine, one report at
// a time, in order per publisher.
func (m *Member) Subscribe(target runtime.Target, pattern string, fn func(runtime.Report)) error {
	return m.a.Do(func() { m.svc.MonitorReports(target, pattern, fn) })
}

// Unsubscribe cancels Subscribe.
func (m *Member) Unsubscribe(target runtime.Target, pattern string) error {
	return m.a.Do(func() { m.svc.IgnoreReports(target, pattern) })
}

// Request sends a request and waits for its answer: the result, or a
// *runtime.Failure. ctx bounds the wait (its deadline is the request's
// timeout).
func (m *Member) Request(ctx context.Context, target runtime.Target, method string, args ...any) (any, error) {
	type answer struct {
		v   any
		err error
	}
	ch := make(chan answer, 1)
	if err := m.a.Post(func() {
		id := m.svc.SendRequest(target, method, args)
		m.svc.ProcessResponse(id, func(res any, _ string) { ch <- answer{v: res} })
		m.svc.ProcessFailure(id, func(f *runtime.Failure) { ch <- answer{err: f} }, 0)
	}); err != nil {
		return nil, err
	}
	select {
	case a := <-ch:
		return a.v, a.err
	case <-ctx.Done():
		return nil, fmt.Errorf("exchange: request %s: %w", method, ctx.Err())
	}
}

// NewService creates and registers another service of the member, on an
// agent of its own; setup runs first, on that agent (export methods,
// subscribe). Publish on it from any goroutine.
func (m *Member) NewService(cfg runtime.ServiceConfig, setup func(*runtime.Service)) (*runtime.Service, error) {
	a, err := m.rt.NewAgent(cfg.Name)
	if err != nil {
		return nil, err
	}
	var s *runtime.Service
	if derr := a.Do(func() {
		s, err = a.NewService(cfg)
		if err != nil {
			return
		}
		if setup != nil {
			setup(s)
		}
		err = s.Register()
	}); derr != nil {
		return nil, derr
	}
	return s, err
}

// Close leaves the service space in order: the member's services are
// destroyed (withdrawn everywhere), then the connection closes.
func (m *Member) Close(ctx context.Context) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return errors.New("exchange: member closed")
	}
	m.closed = true
	m.mu.Unlock()
	return m.rt.Shutdown(ctx)
}
