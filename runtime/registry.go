package runtime

import (
	"slices"
	"sync"
)

// RegistryEvent is one registry announcement. Group is empty when the
// service itself became available or was withdrawn; otherwise the service
// joined (Available) or left (Withdrawn) Group.
type RegistryEvent struct {
	Binding *Binding
	Group   string
	Status  Status
}

// RegistryFunc receives registry announcements.
type RegistryFunc func(RegistryEvent)

type regKind uint8

const (
	regAll regKind = iota
	regName
	regGroup
	regAddress
)

type regKey struct {
	kind regKind
	key  string
}

// regSub is one registry subscription of a service.
type regSub struct {
	owner  *Service
	kind   regKind
	key    string
	fn     RegistryFunc
	active bool // written and read on the owner goroutine only
}

// registry holds every registered service and every subscription.
//
// Lock order: registry.mu, then a publisher's pubMu, then a mailbox's lock.
// Announcements are queued while registry.mu is held, so every subscriber
// sees registry changes in one global order.
type registry struct {
	mu       sync.Mutex
	order    uint64
	byID     map[string]*Binding
	byName   map[string][]*Binding
	byGroup  map[string][]*Binding
	subs     map[regKey][]*regSub
	repIndex map[targetKey][]*reportSub

	// actor is the agent whose owner goroutine holds mu for a registry
	// change, if any: announcements that push another agent's mailbox
	// over its bound are noted on the actor (see Agent.backpressure).
	actor *Agent
}

// lockFor takes the registry lock for a change made by agent a.
func (r *registry) lockFor(a *Agent) {
	r.mu.Lock()
	r.actor = a
}

// unlock releases the registry lock taken by lockFor.
func (r *registry) unlock() {
	r.actor = nil
	r.mu.Unlock()
}

// notice queues an announcement for agent to; registry.mu is held.
func (r *registry) notice(to *Agent, fn func()) {
	to.mb.push(entry{kind: entryNotice, fn: fn}, false)
	if a := r.actor; a != nil && a != to && to.mb.congested() && !slices.Contains(a.congested, to) {
		a.congested = append(a.congested, to)
	}
}

func (r *registry) init() {
	r.byID = make(map[string]*Binding)
	r.byName = make(map[string][]*Binding)
	r.byGroup = make(map[string][]*Binding)
	r.subs = make(map[regKey][]*regSub)
	r.repIndex = make(map[targetKey][]*reportSub)
}

// announce queues ev for every subscription under k.
func (r *registry) announce(k regKey, ev RegistryEvent) {
	for _, sub := range r.subs[k] {
		r.notify(sub, ev)
	}
}

// notify queues ev for one subscription; registry.mu is held.
func (r *registry) notify(sub *regSub, ev RegistryEvent) {
	r.notice(sub.owner.agent, func() {
		if sub.active && !sub.owner.Destroyed() {
			sub.fn(ev)
		}
	})
}

// announceService queues the service-level event and, for availability,
// the group joins that follow it; for withdrawal, the group leaves that
// precede it.
func (r *registry) announceService(b *Binding, st Status) {
	if st == Withdrawn {
		for _, g := range b.groups {
			r.announceGroup(b, g, Withdrawn)
		}
	}
	ev := RegistryEvent{Binding: b, Status: st}
	r.announce(regKey{regAll, ""}, ev)
	r.announce(regKey{regName, b.name}, ev)
	r.announce(regKey{regAddress, b.identity}, ev)
	if st == Available {
		for _, g := range b.groups {
			r.announceGroup(b, g, Available)
		}
	}
}

func (r *registry) announceGroup(b *Binding, g string, st Status) {
	ev := RegistryEvent{Binding: b, Group: g, Status: st}
	r.announce(regKey{regAll, ""}, ev)
	r.announce(regKey{regAddress, b.identity}, ev)
	r.announce(regKey{regGroup, g}, ev)
}

// register makes s visible; a duplicate identity is refused.
func (r *registry) register(s *Service, groups []string) error {
	b := s.b
	r.lockFor(s.agent)
	defer r.unlock()
	if r.byID[b.identity] != nil {
		return ErrDuplicate
	}
	r.order++
	b.order = r.order
	r.byID[b.identity] = b
	r.byName[b.name] = append(r.byName[b.name], b)
	for _, g := range groups {
		if !slices.Contains(b.groups, g) {
			b.groups = append(b.groups, g)
			r.byGroup[g] = append(r.byGroup[g], b)
		}
	}
	r.announceService(b, Available)
	for _, k := range []targetKey{{name: b.name}, {identity: b.identity}} {
		for _, sub := range r.repIndex[k] {
			r.attach(sub, s)
		}
	}
	return nil
}

func (r *registry) withdraw(s *Service) {
	b := s.b
	r.lockFor(s.agent)
	defer r.unlock()
	b.markWithdrawn()
	r.announceService(b, Withdrawn)
	for _, g := range b.groups {
		r.byGroup[g] = remove(r.byGroup[g], b)
		if len(r.byGroup[g]) == 0 {
			delete(r.byGroup, g)
		}
	}
	b.groups = nil
	delete(r.byID, b.identity)
	r.byName[b.name] = remove(r.byName[b.name], b)
	if len(r.byName[b.name]) == 0 {
		delete(r.byName, b.name)
	}
	r.detachPublisher(s)
}

func (r *registry) joinGroup(b *Binding, g string) {
	r.lockFor(b.agent)
	defer r.unlock()
	r.join(b, g)
}

func (r *registry) leaveGroup(b *Binding, g string) {
	r.lockFor(b.agent)
	defer r.unlock()
	r.leave(b, g)
}

// join adds b to group g and announces it; registry.mu is held.
func (r *registry) join(b *Binding, g string) {
	if slices.Contains(b.groups, g) {
		return
	}
	b.groups = append(b.groups, g)
	r.byGroup[g] = append(r.byGroup[g], b)
	r.announceGroup(b, g, Available)
}

// leave removes b from group g and announces it; registry.mu is held.
func (r *registry) leave(b *Binding, g string) {
	if !slices.Contains(b.groups, g) {
		return
	}
	b.groups = remove(b.groups, g)
	r.byGroup[g] = remove(r.byGroup[g], b)
	if len(r.byGroup[g]) == 0 {
		delete(r.byGroup, g)
	}
	r.announceGroup(b, g, Withdrawn)
}

func (r *registry) groupsOf(b *Binding) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(b.groups)
}

// subscribe adds a registry subscription for s, replacing one with the
// same kind and key, and queues an announcement for every matching service
// that already exists.
func (r *registry) subscribe(s *Service, kind regKind, key string, fn RegistryFunc) {
	k := regKey{kind, key}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := s.regSubs[k]; old != nil {
		r.dropRegSub(old)
	}
	sub := &regSub{owner: s, kind: kind, key: key, fn: fn, active: true}
	if s.regSubs == nil {
		s.regSubs = make(map[regKey]*regSub)
	}
	s.regSubs[k] = sub
	if s.life != lifeHeld {
		r.addRegSub(sub)
	}
}

// addRegSub indexes sub and announces every matching service that
// already exists; registry.mu is held.
func (r *registry) addRegSub(sub *regSub) {
	k := regKey{sub.kind, sub.key}
	key := sub.key
	r.subs[k] = append(r.subs[k], sub)
	switch sub.kind {
	case regAll:
		for _, b := range r.sorted(r.allBindings()) {
			r.notify(sub, RegistryEvent{Binding: b, Status: Available})
			for _, g := range b.groups {
				r.notify(sub, RegistryEvent{Binding: b, Group: g, Status: Available})
			}
		}
	case regName:
		for _, b := range r.byName[key] {
			r.notify(sub, RegistryEvent{Binding: b, Status: Available})
		}
	case regGroup:
		for _, b := range r.byGroup[key] {
			r.notify(sub, RegistryEvent{Binding: b, Group: key, Status: Available})
		}
	case regAddress:
		if b := r.byID[key]; b != nil {
			r.notify(sub, RegistryEvent{Binding: b, Status: Available})
			for _, g := range b.groups {
				r.notify(sub, RegistryEvent{Binding: b, Group: g, Status: Available})
			}
		}
	}
}

func (r *registry) unsubscribe(s *Service, kind regKind, key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if sub := s.regSubs[regKey{kind, key}]; sub != nil {
		r.dropRegSub(sub)
	}
}

func (r *registry) dropRegSub(sub *regSub) {
	k := regKey{sub.kind, sub.key}
	sub.active = false
	delete(sub.owner.regSubs, k)
	r.subs[k] = remove(r.subs[k], sub)
	if len(r.subs[k]) == 0 {
		delete(r.subs, k)
	}
}

// unsubscribeAll drops every registry and report subscription of s.
func (r *registry) unsubscribeAll(s *Service) {
	r.lockFor(s.agent)
	defer r.unlock()
	for _, sub := range s.regSubs {
		r.dropRegSub(sub)
	}
	for _, sub := range s.repSubs {
		r.dropReportSub(sub)
	}
}

func (r *registry) allBindings() []*Binding {
	out := make([]*Binding, 0, len(r.byID))
	for _, b := range r.byID {
		out = append(out, b)
	}
	return out
}

// sorted orders bindings by registration.
func (r *registry) sorted(bs []*Binding) []*Binding {
	slices.SortFunc(bs, func(x, y *Binding) int {
		switch {
		case x.order < y.order:
			return -1
		case x.order > y.order:
			return 1
		}
		return 0
	})
	return bs
}

func (r *registry) lookupName(name string) []*Binding {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.byName[name])
}

// firstNamed returns the service a request by name goes to: the first
// local service of that name, else the first remote one.
func (r *registry) firstNamed(name string) *Binding {
	r.mu.Lock()
	defer r.mu.Unlock()
	bs := r.byName[name]
	for _, b := range bs {
		if b.location == Local {
			return b
		}
	}
	if len(bs) > 0 {
		return bs[0]
	}
	return nil
}

func (r *registry) lookupGroup(g string) []*Binding {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.byGroup[g])
}

func (r *registry) lookupAddress(addr string) *Binding {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byID[addr]
}

func (r *registry) agents() []*Binding {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sorted(r.allBindings())
}

// remove returns xs without its first x, keeping order. It works in
// place: every list it is used on is only read under the lock that
// guards its changes (lookups hand out copies).
func remove[T comparable](xs []T, x T) []T {
	i := slices.Index(xs, x)
	if i < 0 {
		return xs
	}
	return slices.Delete(xs, i, i+1)
}

// Registry operations of a Service.

// SubscribeRegistry subscribes to every service and group announcement.
func (s *Service) SubscribeRegistry(fn RegistryFunc) { s.subscribeReg(regAll, "", fn) }

// UnsubscribeRegistry cancels SubscribeRegistry.
func (s *Service) UnsubscribeRegistry() { s.rt.reg.unsubscribe(s, regAll, "") }

// SubscribeServiceName subscribes to services called name.
func (s *Service) SubscribeServiceName(name string, fn RegistryFunc) {
	s.subscribeReg(regName, name, fn)
}

// UnsubscribeServiceName cancels SubscribeServiceName.
func (s *Service) UnsubscribeServiceName(name string) { s.rt.reg.unsubscribe(s, regName, name) }

// SubscribeServiceGroup subscribes to members joining and leaving group g;
// a member that is withdrawn is reported as leaving.
func (s *Service) SubscribeServiceGroup(g string, fn RegistryFunc) {
	s.subscribeReg(regGroup, g, fn)
}

// UnsubscribeServiceGroup cancels SubscribeServiceGroup.
func (s *Service) UnsubscribeServiceGroup(g string) { s.rt.reg.unsubscribe(s, regGroup, g) }

// SubscribeServiceAddress subscribes to one agent: its availability and its groups.
func (s *Service) SubscribeServiceAddress(addr string, fn RegistryFunc) {
	s.subscribeReg(regAddress, addr, fn)
}

// UnsubscribeServiceAddress cancels SubscribeServiceAddress.
func (s *Service) UnsubscribeServiceAddress(addr string) {
	s.rt.reg.unsubscribe(s, regAddress, addr)
}

func (s *Service) subscribeReg(kind regKind, key string, fn RegistryFunc) {
	if s.Destroying() || s.life == lifeRetired {
		return
	}
	s.rt.reg.subscribe(s, kind, key, fn)
}

// LookupServiceName returns the services called name, in registration order.
// It may be called from any goroutine, as may the other lookups.
func (rt *Runtime) LookupServiceName(name string) []*Binding { return rt.reg.lookupName(name) }

// FirstNamed returns the service that a request or endpoint by name
// addresses: the first local service called name (in registration
// order), else the first remote one, or nil.
func (rt *Runtime) FirstNamed(name string) *Binding { return rt.reg.firstNamed(name) }

// LookupServiceGroup returns the members of group g, in join order.
func (rt *Runtime) LookupServiceGroup(g string) []*Binding { return rt.reg.lookupGroup(g) }

// LookupServiceAddress returns the service with that address, or nil.
func (rt *Runtime) LookupServiceAddress(addr string) *Binding { return rt.reg.lookupAddress(addr) }

// ServiceAgents returns every registered service, in registration order.
func (rt *Runtime) ServiceAgents() []*Binding { return rt.reg.agents() }
