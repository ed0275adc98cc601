package runtime

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// ServiceConfig describes a service to create.
type ServiceConfig struct {
	// Name is the service name; empty makes an anonymous service that can
	// still be reached through its binding.
	Name string
	// Audience limits where the service is visible: AudienceAll ("*"),
	// AudienceProcess ("", this process only, the zero value) or an
	// exchange group name.
	Audience string
	// Groups are joined when the service is registered.
	Groups []string
}

// Hooks are the functions the runtime calls on a service's behalf. Each is
// optional and runs on the owner goroutine.
type Hooks struct {
	// Destroy runs when the service is destroyed, before it is withdrawn.
	Destroy func()
	// Subscription is told when a subscriber's subscription to this
	// service is attached or withdrawn.
	Subscription func(SubscriptionEvent)
	// PublisherNotification is told when this service's first subscription
	// to a publisher is attached, and when that publisher goes away.
	PublisherNotification func(PublisherNotification)
	// InvalidMethod answers a request for a method that is not exported.
	// Without it the request fails with SERVER_METHOD_UNAVAILABLE.
	InvalidMethod func(*Request)
}

// Status is a registry status, numbered as OSE's SERVICE_AVAILABLE and
// SERVICE_WITHDRAWN.
type Status int

// Registry statuses.
const (
	Available Status = 0
	Withdrawn Status = 1
)

// SubscriptionStatus is the status in a SubscriptionEvent, numbered as
// OSE's SUBSCRIPTION_REQUESTED and SUBSCRIPTION_WITHDRAWN.
type SubscriptionStatus int

// Subscription statuses.
const (
	SubscriptionRequested SubscriptionStatus = 0
	SubscriptionWithdrawn SubscriptionStatus = 1
)

// SubscriptionEvent tells a publisher about one of its subscribers.
type SubscriptionEvent struct {
	Subscriber *Binding
	Status     SubscriptionStatus
	Pattern    string
}

// PublisherNotification tells a subscriber about one of its publishers.
type PublisherNotification struct {
	Publisher  *Binding
	Subscriber *Binding
	Status     Status
}

// Errors returned by Service methods.
var (
	ErrDestroyed  = errors.New("runtime: service destroyed")
	ErrBadGroup   = errors.New("runtime: group name must not be empty")
	ErrRegistered = errors.New("runtime: service already registered")
)

// A Service is a service agent: it has a binding (identity) in the
// registry, and owns timers, subscriptions, exported methods and
// conversations. Unless noted, its methods must be called on its agent's
// owner goroutine.
type Service struct {
	agent *Agent
	rt    *Runtime
	b     *Binding
	log   *slog.Logger
	hooks Hooks

	registered bool
	destroyed  bool
	destroying bool
	initGroups []string

	// Hot reload (see reload.go): a held service records subscriptions
	// and queues what it sends until Commit; a retired one has handed its
	// binding to its successor and only finishes its conversations.
	held        bool
	heldOps     []func()
	retired     bool
	successor   *Service
	predecessor *Service

	timers   map[string]*action
	alarms   map[string]*action
	actions  map[string]*action
	onShut   func(ShutdownPhase)
	regSubs  map[regKey]*regSub
	repSubs  map[repKey]*reportSub
	methods  map[string]Method
	incoming map[string]*Request
	arrivals uint64 // requests taken so far, to order incoming
	outgoing map[string]*pending
	timeout  time.Duration // 0: the runtime's default

	// publishers counts, per publisher, the attached subscriptions of this
	// service; guarded by the registry lock.
	publishers map[*Binding]int

	// Publisher side, guarded by pubMu.
	pubMu       sync.Mutex
	subscribers []*reportSub
	cache       map[string]*cachedReport
	cacheSeq    uint64
	cacheSwept  int
}

// NewService creates a service of this agent. It is not visible in the
// registry until Register is called, but it can already subscribe, start
// timers and export methods.
func (a *Agent) NewService(cfg ServiceConfig) (*Service, error) {
	if a.stopping {
		return nil, ErrClosed
	}
	for _, g := range cfg.Groups {
		if g == "" {
			return nil, ErrBadGroup
		}
	}
	s := &Service{
		agent:      a,
		rt:         a.rt,
		initGroups: slices.Clone(cfg.Groups),
	}
	s.b = &Binding{
		name:     cfg.Name,
		audience: cfg.Audience,
		identity: a.rt.nextIdentity(),
		process:  a.rt.process,
		location: Local,
		agent:    a,
		svc:      s,
		reg:      &a.rt.reg,
	}
	s.log = a.log.With("service", cfg.Name)
	a.services = append(a.services, s)
	return s, nil
}

// Agent returns the agent that owns the service.
func (s *Service) Agent() *Agent { return s.agent }

// Binding returns the service's binding.
func (s *Service) Binding() *Binding { return s.b }

// Logger returns the service's logger.
func (s *Service) Logger() *slog.Logger { return s.log }

// Registered reports whether Register has been called and the service is not destroyed.
func (s *Service) Registered() bool { return s.registered && !s.destroyed }

// Destroyed reports whether the service has been destroyed.
func (s *Service) Destroyed() bool { return s.destroyed }

// Destroying reports whether the service is being destroyed (its Destroy
// hook runs) or has been.
func (s *Service) Destroying() bool { return s.destroying || s.destroyed }

// SetHooks sets the service's hooks.
func (s *Service) SetHooks(h Hooks) { s.hooks = h }

// SetRequestTimeout sets the default timeout of this service's blocking calls.
func (s *Service) SetRequestTimeout(d time.Duration) {
	if d > 0 {
		s.timeout = d
	}
}

// RequestTimeout returns the default timeout of this service's blocking calls.
func (s *Service) RequestTimeout() time.Duration {
	if s.timeout > 0 {
		return s.timeout
	}
	return s.rt.RequestTimeout()
}

// Groups returns the groups the service has joined (or will join when
// registered), in join order.
func (s *Service) Groups() []string {
	if !s.registered {
		return slices.Clone(s.initGroups)
	}
	return s.b.Groups()
}

// Register makes the service visible: it is announced as available to
// registry subscribers, joins its configured groups, and subscriptions by
// name attach to it.
func (s *Service) Register() error {
	switch {
	case s.destroyed:
		return ErrDestroyed
	case s.registered:
		return ErrRegistered
	}
	s.registered = true
	s.rt.reg.register(s, s.initGroups)
	s.initGroups = nil
	return nil
}

// JoinGroup joins group g (announced to registry subscribers). Joining a
// group twice is a no-op.
func (s *Service) JoinGroup(g string) error {
	if g == "" {
		return ErrBadGroup
	}
	if s.destroyed {
		return ErrDestroyed
	}
	if !s.registered {
		if !slices.Contains(s.initGroups, g) {
			s.initGroups = append(s.initGroups, g)
		}
		return nil
	}
	s.rt.reg.joinGroup(s.b, g)
	return nil
}

// LeaveGroup leaves group g; leaving a group not joined is a no-op.
func (s *Service) LeaveGroup(g string) {
	if s.destroyed {
		return
	}
	if !s.registered {
		s.initGroups = slices.DeleteFunc(s.initGroups, func(x string) bool { return x == g })
		return
	}
	s.rt.reg.leaveGroup(s.b, g)
}

// Destroy withdraws the service for good. The Destroy hook runs first (the
// service can still publish a last report); then the service leaves its
// groups and is withdrawn, its subscriptions, timers, alarms, actions,
// report cache and exported methods are dropped, requests it has not
// answered fail with SERVER_APPLICATION_ERROR ("service withdrawn"), and
// replies to its own requests will be ignored. Destroy is idempotent.
func (s *Service) Destroy() {
	if s.destroyed || s.destroying {
		return
	}
	if s.held || s.retired {
		s.dispose()
		return
	}
	s.destroying = true
	if s.hooks.Destroy != nil {
		s.agent.safely(s.hooks.Destroy)
	}
	s.destroyed = true
	s.rt.reg.unsubscribeAll(s)
	if s.registered {
		s.rt.reg.withdraw(s)
	}
	s.cancelAllKinds()
	s.rt.shutdown.unsubscribe(s)
	for _, r := range s.unanswered() {
		r.failWithdrawn()
	}
	s.incoming = nil
	for _, p := range s.outgoing {
		p.stop()
	}
	s.outgoing = nil
	s.methods = nil
	s.b.markWithdrawn()
	s.agent.services = slices.DeleteFunc(s.agent.services, func(x *Service) bool { return x == s })
}

func (s *Service) String() string {
	return fmt.Sprintf("%s(%s)", s.b.name, s.b.identity)
}
