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
	// Connection is told of every exchange connection change (see
	// Runtime.AnnounceConnection).
	Connection func(ConnectionEvent)
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
	// ErrDuplicate is returned by Register for a service whose identity
	// is already registered (only a remote service can have one).
	ErrDuplicate = errors.New("runtime: a service with this identity is already registered")
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

	// life is where the service is in its life cycle (see life). The
	// owner goroutine changes it, under pubMu, so that Publish and
	// SendReport, which may run on any goroutine, read it under pubMu.
	life       life
	initGroups []string

	// Hot reload (see reload.go): a held service records subscriptions
	// and queues what it sends (heldOps, guarded by pubMu) until Commit;
	// a retired one has handed its binding to its successor and only
	// finishes its conversations. destroyAtCommit records a Destroy asked
	// of a held service: it happens once the version is committed.
	heldOps         []func()
	destroyAtCommit bool
	successor       *Service
	predecessor     *Service

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
	connSeen uint64        // the connection events it knows of (see tellConnections)

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

// NewRemoteService creates a stand-in for a service of another process:
// a service of this agent whose binding has the remote identity and
// process and location Remote. Once registered it is visible like a local
// service; requests to it reach this agent (its InvalidMethod hook), and
// subscribers attach to it (its Subscription hook is told), so the agent
// can carry both to the other process. Reports from there are handed to
// its subscribers with Forward. The exchange uses it.
func (a *Agent) NewRemoteService(cfg ServiceConfig, identity, process string) (*Service, error) {
	if identity == "" || process == "" {
		return nil, errors.New("runtime: a remote service needs an identity and a process")
	}
	s, err := a.NewService(cfg)
	if err != nil {
		return nil, err
	}
	s.b.identity, s.b.process, s.b.location = identity, process, Remote
	return s, nil
}

// Agent returns the agent that owns the service.
func (s *Service) Agent() *Agent { return s.agent }

// Binding returns the service's binding.
func (s *Service) Binding() *Binding { return s.b }

// Logger returns the service's logger.
func (s *Service) Logger() *slog.Logger { return s.log }

// Registered reports whether the service is registered (visible in the
// registry) and neither being destroyed nor replaced.
func (s *Service) Registered() bool { return s.life == lifeLive }

// Destroyed reports whether the service has ended: destroyed, or disposed
// of after a hot reload.
func (s *Service) Destroyed() bool { return s.life == lifeEnded }

// Destroying reports whether the service is being destroyed (its Destroy
// hook runs) or has ended.
func (s *Service) Destroying() bool { return s.life == lifeDestroying || s.life == lifeEnded }

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
	if s.life == lifeNew || s.life == lifeHeld {
		return slices.Clone(s.initGroups)
	}
	return s.b.Groups()
}

// Register makes the service visible: it is announced as available to
// registry subscribers, joins its configured groups, and subscriptions by
// name attach to it.
func (s *Service) Register() error {
	switch s.life {
	case lifeNew:
	case lifeLive, lifeDestroying, lifeRetired:
		return ErrRegistered
	case lifeEnded:
		return ErrDestroyed
	default:
		return ErrNotHeld // a held service becomes visible through Commit
	}
	if err := s.rt.reg.register(s, s.initGroups); err != nil {
		return err
	}
	s.setLife(lifeLive)
	s.initGroups = nil
	s.tellConnections()
	return nil
}

// JoinGroup joins group g (announced to registry subscribers). Joining a
// group twice is a no-op.
func (s *Service) JoinGroup(g string) error {
	if g == "" {
		return ErrBadGroup
	}
	switch s.life {
	case lifeNew, lifeHeld:
		if !slices.Contains(s.initGroups, g) {
			s.initGroups = append(s.initGroups, g)
		}
	case lifeLive:
		s.rt.reg.joinGroup(s.b, g)
	default:
		return ErrDestroyed
	}
	return nil
}

// LeaveGroup leaves group g; leaving a group not joined is a no-op.
func (s *Service) LeaveGroup(g string) {
	switch s.life {
	case lifeNew, lifeHeld:
		s.initGroups = slices.DeleteFunc(s.initGroups, func(x string) bool { return x == g })
	case lifeLive:
		s.rt.reg.leaveGroup(s.b, g)
	}
}

// Destroy withdraws the service for good. The Destroy hook runs first (the
// service can still publish a last report); then the service leaves its
// groups and is withdrawn, its subscriptions, timers, alarms, actions,
// report cache and exported methods are dropped, requests it has not
// answered fail with SERVER_APPLICATION_ERROR ("service withdrawn"), and
// replies to its own requests will be ignored. Destroy is idempotent.
//
// A held service (a new version during a hot reload) is destroyed when
// its version is committed, in the same sequence: it takes its place,
// what it queued is sent, its Destroy hook runs and it is withdrawn. A
// retired service is disposed of (see Dispose).
func (s *Service) Destroy() {
	switch s.life {
	case lifeDestroying, lifeEnded:
		return
	case lifeHeld:
		s.destroyAtCommit = true
		return
	case lifeRetired:
		s.Dispose()
		return
	}
	from := s.life
	s.setLife(lifeDestroying)
	if s.hooks.Destroy != nil {
		s.agent.safely(s.hooks.Destroy)
	}
	s.end(from, NewFailure(ServerApplicationError, withdrawnDetails))
}

// withdrawnDetails is the failure detail of requests a destroyed service
// did not answer (OSE's wording).
const withdrawnDetails = "Service was withdrawn before response received."

// end is the one teardown of a service, whatever ended it: from says
// where in its life cycle it was, unanswered the failure its pending
// requests get. A live service is withdrawn; a held one's records were
// never attached; a retired one's binding lives on in its successor.
func (s *Service) end(from life, unanswered *Failure) {
	s.setLife(lifeEnded)
	if from == lifeHeld {
		s.repSubs, s.regSubs = nil, nil
		s.pubMu.Lock()
		s.heldOps = nil
		s.pubMu.Unlock()
	} else {
		s.rt.reg.unsubscribeAll(s)
	}
	if from == lifeLive {
		s.rt.reg.withdraw(s)
	}
	s.cancelAllKinds()
	s.rt.shutdown.unsubscribe(s)
	for _, r := range s.unanswered() {
		r.Fail(&Failure{Code: unanswered.Code, Description: unanswered.Description, Origin: unanswered.Origin, Details: unanswered.Details})
	}
	s.incoming = nil
	for _, p := range s.outgoing {
		p.abandon()
	}
	s.outgoing = nil
	s.methods = nil
	s.hooks = Hooks{}
	if from != lifeRetired && s.predecessor == nil {
		s.b.markWithdrawn() // the binding is its own, not one handed over
	}
	// take s out of the chain of versions: a retired version before it
	// now speaks for the one after it (see publish), and the one after
	// finds requests held by the one before (see PendingRequest)
	pred, succ := s.predecessor, s.successor
	if pred != nil && pred.successor == s {
		pred.pubMu.Lock()
		pred.successor = succ
		pred.pubMu.Unlock()
	}
	if succ != nil && succ.predecessor == s {
		succ.predecessor = pred
	}
	s.pubMu.Lock()
	s.successor, s.predecessor = nil, nil
	s.pubMu.Unlock()
	s.agent.services = slices.DeleteFunc(s.agent.services, func(x *Service) bool { return x == s })
}

// setLife moves the service to l, under pubMu (see life).
func (s *Service) setLife(l life) {
	s.pubMu.Lock()
	s.life = l
	s.pubMu.Unlock()
}

// life is where a service is in its life cycle:
//
//	new ──Register──▶ live ──Destroy──▶ destroying ──▶ ended
//	 │                 │
//	Hold              Commit (a successor adopted it) ──▶ retired ──Dispose──▶ ended
//	 ▼
//	held ──Commit──▶ live (or, after Destroy while held, destroying ──▶ ended)
//	 └──Dispose (the new version is discarded)──▶ ended
//
// A new service may already subscribe, start timers and export methods;
// what it publishes is cached for later subscribers. A held service is
// the same, but queues what it sends until Commit.
type life uint8

const (
	lifeNew life = iota
	lifeHeld
	lifeLive
	lifeDestroying
	lifeRetired
	lifeEnded
)

func (s *Service) String() string {
	return fmt.Sprintf("%s(%s)", s.b.name, s.b.identity)
}
