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
	if s.life == lifeNew {
		s.setLife(lifeHeld)
	}
}

// unadopt gives a held service that adopted a predecessor a binding of its
// own again (a new identity): its predecessor ended before the commit.
func (s *Service) unadopt() {
	old := s.b
	nb := &Binding{name: old.name, audience: old.audience, identity: s.rt.nextIdentity(), process: s.rt.process,
		location: Local, agent: s.agent, svc: s, reg: old.reg}
	s.pubMu.Lock()
	s.b = nb
	s.pubMu.Unlock()
	for _, sub := range s.repSubs {
		sub.binding = nb
	}
	s.predecessor = nil
}

// DestroyPending reports whether the held service s will be destroyed
// when its version is committed (Destroy was called while it was held).
func (s *Service) DestroyPending() bool { return s.life == lifeHeld && s.destroyAtCommit }

// Held reports whether the service is held.
func (s *Service) Held() bool { return s.life == lifeHeld }

// Retired reports whether the service has handed its binding to a successor.
func (s *Service) Retired() bool { return s.life == lifeRetired }

// Adopt makes the held service s the successor of prev: it takes prev's
// binding now (so it has prev's identity), and prev's place at Commit.
// prev must be a registered service of the same agent.
func (s *Service) Adopt(prev *Service) error {
	switch {
	case s.life != lifeHeld:
		return ErrNotHeld
	case prev.agent != s.agent || prev.life != lifeLive:
		return errors.New("runtime: cannot adopt " + prev.String())
	}
	s.predecessor = prev
	s.pubMu.Lock()
	s.b = prev.b
	s.pubMu.Unlock()
	return nil
}

// Commit puts a new version of an agent's services in place, on the
// owner goroutine: remove are destroyed, each held service with a
// predecessor (see Adopt) takes its place, every other held service is
// registered, and finally what the held services queued is sent, in the
// order it was queued per service. A held service that was destroyed
// meanwhile is then destroyed in the usual way (its Destroy hook runs and
// it is withdrawn). next lists the held services in declaration order.
func (a *Agent) Commit(next []*Service, remove []*Service) error {
	for _, s := range next {
		switch {
		case s.life != lifeHeld || s.agent != a:
			return ErrNotHeld
		case s.predecessor != nil && s.predecessor.life != lifeLive:
			return errors.New("runtime: " + s.predecessor.String() + " can no longer be replaced")
		}
	}
	for _, s := range remove {
		s.Destroy()
	}
	for _, s := range next {
		if p := s.predecessor; p != nil && p.life != lifeLive {
			// a removed service's destroy hook destroyed it: its successor
			// starts as a new service, with an identity of its own
			s.unadopt()
		}
	}
	for _, s := range next {
		if s.predecessor != nil {
			s.rt.reg.handOver(s.predecessor, s)
			s.predecessor.retire()
		}
	}
	for _, s := range next {
		if s.predecessor == nil {
			if err := s.rt.reg.register(s, s.initGroups); err != nil {
				return err // cannot happen: a new local identity is unique
			}
			s.initGroups = nil
			s.rt.reg.attachHeld(s)
		}
	}
	for _, s := range next {
		s.release()
		if s.predecessor == nil {
			s.tellConnections()
		}
	}
	for _, s := range next {
		if s.destroyAtCommit {
			s.destroyAtCommit = false
			s.Destroy()
		}
	}
	return nil
}

// release ends a held service's hold once it is in place: it runs what
// was queued, in order, and goes live. What other goroutines publish
// meanwhile is queued behind, so every goroutine's reports keep their order.
func (s *Service) release() {
	for {
		s.pubMu.Lock()
		ops := s.heldOps
		s.heldOps = nil
		if len(ops) == 0 {
			s.life = lifeLive
			s.pubMu.Unlock()
			return
		}
		s.pubMu.Unlock()
		for _, op := range ops {
			op()
		}
	}
}

// hold queues op while s is held, and reports whether it did; an op runs
// when the service is released, as if it had been done then.
func (s *Service) hold(op func()) bool {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	if s.life != lifeHeld {
		return false
	}
	s.heldOps = append(s.heldOps, op)
	return true
}

// attachHeld attaches what a formerly held service recorded.
func (r *registry) attachHeld(s *Service) {
	r.lockFor(s.agent)
	defer r.unlock()
	for _, sub := range s.repSubs {
		r.addReportSub(sub)
	}
	for _, sub := range s.regSubs {
		r.addRegSub(sub)
	}
}

// handOver moves prev's place in the registry to next.
func (r *registry) handOver(prev, next *Service) {
	r.lockFor(next.agent)
	defer r.unlock()
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
	// from here on prev speaks for next (see publish)
	prev.life, prev.successor = lifeRetired, next
	next.pubMu.Unlock()
	prev.pubMu.Unlock()

	b.svc = next
	for _, sub := range added {
		r.addReportSub(sub)
	}
	for _, sub := range addedReg {
		r.addRegSub(sub)
	}
}

// retire finishes prev's side of a hand-over (handOver made it retired).
func (s *Service) retire() {
	s.hooks = Hooks{}
	s.methods = nil
	s.cancelAllKinds()
	s.rt.shutdown.unsubscribe(s)
}

// Dispose ends a retired service (or drops a held one) without its
// Destroy hook: requests it took and has not answered fail with
// SERVER_APPLICATION_ERROR ("service reloaded"), replies to its own
// requests will be ignored, and nothing is announced: its binding, if it
// was handed over, lives on in its successor.
func (s *Service) Dispose() {
	if s.life == lifeEnded {
		return
	}
	s.end(s.life, NewFailure(ServerApplicationError, "service reloaded"))
}
