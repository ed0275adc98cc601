package runtime

import (
	"sync/atomic"
	"time"
)

// Location says whether a service lives in this process.
type Location int

// Locations, numbered as OSE's SERVICE_LOCAL and SERVICE_REMOTE.
const (
	Local  Location = 0
	Remote Location = 1
)

// Audiences with a fixed meaning. Any other audience string names an
// exchange group.
const (
	AudienceAll     = "*" // visible everywhere the exchange reaches
	AudienceProcess = ""  // visible in this process only
)

// A Binding describes one service agent: its name, audience, identity and
// where it lives. There is exactly one Binding per service agent, so two
// bindings of the same agent are the same pointer. A Binding stays valid
// after its service is withdrawn. Its methods may be called from any
// goroutine.
type Binding struct {
	name     string
	audience string
	identity string
	process  string
	location Location
	agent    *Agent // the agent that serves it (fixed): for a remote service, the exchange's agent that stands in for it
	reg      *registry
	// svc is the local service that currently answers for the binding. A
	// hot reload hands the binding to the new version's service; it is
	// written on the agent's owner goroutine with the registry lock held.
	svc   *Service
	order uint64 // registration order

	withdrawn   atomic.Bool
	withdrawnAt atomic.Int64 // unix nanoseconds
	// groups is guarded by the registry lock.
	groups []string
}

// Name returns the service name (may be empty for an anonymous service).
func (b *Binding) Name() string { return b.name }

// Audience returns the service audience.
func (b *Binding) Audience() string { return b.audience }

// Identity returns the agent identity, "N@host:pid", unique and stable for
// the life of the service agent (hot reloads included).
func (b *Binding) Identity() string { return b.identity }

// Address returns the service address, which routes requests and reports
// to this agent. In agentd an address is the agent identity.
func (b *Binding) Address() string { return b.identity }

// ProcessIdentity returns the identity of the process the service lives in.
func (b *Binding) ProcessIdentity() string { return b.process }

// Location returns Local or Remote.
func (b *Binding) Location() Location { return b.location }

// Withdrawn reports whether the service has been withdrawn.
func (b *Binding) Withdrawn() bool { return b.withdrawn.Load() }

// WithdrawnAt returns when the service was withdrawn (zero if it is not).
func (b *Binding) WithdrawnAt() time.Time {
	if n := b.withdrawnAt.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

func (b *Binding) markWithdrawn() {
	if !b.withdrawn.Swap(true) {
		b.withdrawnAt.Store(time.Now().UnixNano())
	}
}

// Service returns the local service that currently answers for the
// binding (for a remote service, its stand-in). Call it on the agent's
// owner goroutine.
func (b *Binding) Service() *Service { return b.svc }

// Groups returns the groups the service has joined, in join order.
func (b *Binding) Groups() []string { return b.reg.groupsOf(b) }

// String returns the service name.
func (b *Binding) String() string { return b.name }

// Target returns a Target naming exactly this agent.
func (b *Binding) Target() Target { return Target{b: b} }

// A Target says which publishers a subscription or request is for: every
// service with a name (now and later), or one service agent.
type Target struct {
	name string
	b    *Binding
	addr string // an agent named by its address alone (see Address)
}

// Address returns a Target for the service agent with that address
// (identity), visible now or not: subscriptions to it attach whenever it
// is registered.
func Address(addr string) Target { return Target{addr: addr} }

// Named returns a Target for every service called name.
func Named(name string) Target { return Target{name: name} }

// Binding returns the agent targeted, or nil for a name target.
func (t Target) Binding() *Binding { return t.b }

// Name returns the service name targeted (the agent's name for a binding target).
func (t Target) Name() string {
	if t.b != nil {
		return t.b.name
	}
	return t.name
}

// key identifies the target in the registry's subscription index.
func (t Target) key() targetKey {
	if t.b != nil {
		return targetKey{identity: t.b.identity}
	}
	if t.addr != "" {
		return targetKey{identity: t.addr}
	}
	return targetKey{name: t.name}
}

type targetKey struct {
	name     string
	identity string
}
