package runtime

import (
	"errors"
	"slices"
)

// Hot reload replaces the services of an agent by those of a new version
// in one step on the owner goroutine. The new services are created held;
// a held service may subscribe, export methods, start timers, publish and
// send requests, but its subscriptions are only recorded and what it
// sends is queued. Commit then, in this order: destroys the old services
// that have no successor (withdrawn as usual), hands each kept service's
// binding to its successor, registers the new services that have no
// predecessor, and sends what the held services queued. Until Commit
// nothing of the new version is visible; Discard drops it without a trace.
//
// A hand-over keeps the binding (identity and address), the subscribers
// and the report cache. Subscriptions the new version makes exactly as the
// old one did (same target and pattern, same registry subscription) stay
// attached, with the new callback: no subscription is withdrawn and
// requested again, no cached report is delivered twice, no announcement is
// repeated. Group changes are announced as differences. Events queued for
// the old version are delivered to the new one.
//
// The old service is then retired: its timers, subscriptions, methods and
// hooks are gone, but replies to the requests it sent still reach it, and
// the requests it took can still be answered, until Dispose fails those
// with SERVER_APPLICATION_ERROR ("service reloaded").

// ErrNotHeld is returned when a commit is given a service that is not held.
var ErrNotHeld = errors.New("runtime: service is not held")

// Hold makes a new, unregistered service held (see Commit).
func (s *Service) Hold() {
	if !s.registered && !s.destroyed {
		s.held = true
	}
}

// Held reports whether the service is held.
func (s *Service) Held() bool { return s.held }

// Retired reports whether the service has handed its binding to a successor.
func (s *Service) Retired() bool { return s.retired }

// Adopt makes the held service s the successor of prev: it takes prev's
// binding now (so it has prev's identity), and prev's place at Commit.
// prev must be a registered service of the same agent.
func (s *Service) Adopt(prev *Service) error {
	switch {
	case !s.held:
		return ErrNotHeld
	case prev.agent != s.agent || !prev.registered || prev.destroyed || prev.retired:
		return errors.New("runtime: cannot adopt " + prev.String())
	}
	s.predecessor = prev
	s.b = prev.b
	return nil
}

// Commit puts a new version of an agent's services in place, on the
// owner goroutine: remove are destroyed, each held service with a
// predecessor (see Adopt) takes its place, every other held service is
// registered, and finally what the held services queued is sent, in the
// order it was queued per service. next lists the held services in
// declaration order.
func (a *Agent) Commit(next []*Service, remove []*Service) error {
	for _, s := range next {
		switch {
		case !s.held || s.destroyed || s.agent != a:
			return ErrNotHeld
		case s.predecessor != nil && (!s.predecessor.registered || s.predecessor.destroyed || s.predecessor.retired):
			return errors.New("runtime: " + s.predecessor.String() + " can no longer be replaced")
		}
	}
	for _, s := range remove {
		s.Destroy()
	}
	for _, s := range next {
		if s.predecessor != nil {
			s.rt.reg.handOver(s.predecessor, s)
			s.predecessor.retire(s)
		}
	}
	for _, s := range next {
		if s.predecessor == nil {
			s.held = false
			s.Register()
			s.rt.reg.attachHeld(s)
		}
	}
	for _, s := range next {
		ops := s.heldOps
		s.heldOps = nil
		for _, op := range ops {
			op()
		}
	}
	return nil
}

// attachHeld attaches what a formerly held service recorded.
func (r *registry) attachHeld(s *Service) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, sub := range s.repSubs {
		r.addReportSub(sub)
	}
	for _, sub := range s.regSubs {
		r.addRegSub(sub)
	}
}

// handOver moves prev's place in the registry to next.
func (r *registry) handOver(prev, next *Service) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := prev.b

	// groups: announce the differences only
	want := next.initGroups
	next.initGroups = nil
	for _, g := range slices.Clone(b.groups) {
		if !slices.Contains(want, g) {
			r.leave(b, g)
		}
	}
	for _, g := range want {
		r.join(b, g)
	}

	// report subscriptions: keep identical ones, drop the others of prev
	// (prev's publisher counts follow), then attach next's new ones
	for k, old := range prev.repSubs {
		if next.repSubs[k] == nil {
			r.dropReportSub(old)
		}
	}
	var added []*reportSub
	for k, sub := range next.repSubs {
		if old := prev.repSubs[k]; old != nil {
			old.subscriber, old.fn = next, sub.fn
			next.repSubs[k] = old
		} else {
			sub.binding = b // it may have been recorded before Adopt
			added = append(added, sub)
		}
	}
	prev.repSubs = nil
	next.publishers, prev.publishers = prev.publishers, nil

	// registry subscriptions, the same way
	for k, old := range prev.regSubs {
		if next.regSubs[k] == nil {
			r.dropRegSub(old)
		}
	}
	var addedReg []*regSub
	for k, sub := range next.regSubs {
		if old := prev.regSubs[k]; old != nil {
			old.owner, old.fn = next, sub.fn
			next.regSubs[k] = old
		} else {
			addedReg = append(addedReg, sub)
		}
	}
	prev.regSubs = nil

	// the publisher side: subscribers and report cache
	prev.pubMu.Lock()
	next.pubMu.Lock()
	next.subscribers, prev.subscribers = prev.subscribers, nil
	next.cache, prev.cache = prev.cache, nil
	next.cacheSeq, next.cacheSwept = prev.cacheSeq, prev.cacheSwept
	next.pubMu.Unlock()
	prev.pubMu.Unlock()

	b.svc = next
	next.held = false
	next.registered = true
	for _, sub := range added {
		r.addReportSub(sub)
	}
	for _, sub := range addedReg {
		r.addRegSub(sub)
	}
}

// retire finishes prev's side of a hand-over.
func (s *Service) retire(next *Service) {
	s.retired = true
	s.registered = false
	s.successor = next
	s.hooks = Hooks{}
	s.methods = nil
	s.cancelAllKinds()
	s.rt.shutdown.unsubscribe(s)
}

// Dispose ends a retired service (or drops a held one): requests it took
// and has not answered fail with SERVER_APPLICATION_ERROR ("service
// reloaded"), replies to its own requests will be ignored. No hook runs
// and nothing is announced: its binding, if it was handed over, lives on
// in its successor.
func (s *Service) Dispose() { s.dispose() }

func (s *Service) dispose() {
	if s.destroyed {
		return
	}
	s.destroyed = true
	if s.held {
		// a held service's records were never attached
		s.repSubs, s.regSubs, s.heldOps = nil, nil, nil
	} else {
		s.rt.reg.unsubscribeAll(s)
	}
	s.cancelAllKinds()
	s.rt.shutdown.unsubscribe(s)
	for _, r := range s.unanswered() {
		r.Fail(NewFailure(ServerApplicationError, "service reloaded"))
	}
	s.incoming = nil
	for _, p := range s.outgoing {
		p.stop()
	}
	s.outgoing = nil
	s.methods = nil
	if s.successor != nil && s.successor.predecessor == s {
		s.successor.predecessor = nil
	}
	if s.predecessor != nil && s.predecessor.successor == s {
		s.predecessor.successor = nil
	}
	s.agent.services = slices.DeleteFunc(s.agent.services, func(x *Service) bool { return x == s })
}
