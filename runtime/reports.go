package runtime

import (
	"slices"
	"time"

	"github.com/agentd/agentd/internal/subject"
)

// Forever, as a report lifetime, keeps the report cached until it is
// replaced or expired by hand.
const Forever time.Duration = -1

// A Report is what a subscriber receives.
type Report struct {
	Publisher *Binding
	Subject   string
	Pattern   string // the subscription pattern that matched
	Content   any
	Time      time.Time // when it was published
}

// ReportFunc receives reports.
type ReportFunc func(Report)

// reportMsg is one published report, shared by every subscriber it is
// delivered to; its content is never modified.
type reportMsg struct {
	pub     *Binding
	subject string
	content any
	time    time.Time
}

type cachedReport struct {
	msg     *reportMsg
	expires time.Time // zero: never
	seq     uint64
}

func (c *cachedReport) expired(now time.Time) bool {
	return !c.expires.IsZero() && !now.Before(c.expires)
}

type repKey struct {
	target  targetKey
	pattern string
}

// reportSub is one subscription (target, pattern) of a subscriber.
// Publishers deliver through agent and compare binding, which never
// change; subscriber and fn change at a hot reload and are only touched on
// the subscriber's owner goroutine or with the registry lock held.
type reportSub struct {
	agent      *Agent
	binding    *Binding
	subscriber *Service
	key        targetKey
	pattern    subject.Pattern
	fn         ReportFunc
	active     bool // written and read on the subscriber's owner goroutine
}

// Publish publishes content under subject. lifetime 0 delivers and
// forgets, and drops a cached report of that subject; a positive lifetime
// also caches the report that long for later subscribers; Forever caches
// it until replaced or expired. Publish may be called from any goroutine;
// reports published from one goroutine reach each subscriber in order.
// content must be plain data (see package doc) and must not be modified
// afterwards.
func (s *Service) Publish(subject string, content any, lifetime time.Duration) {
	s.publish(content, lifetime, subject)
}

// PublishMany publishes the same content under several subjects, in order.
func (s *Service) PublishMany(subjects []string, content any, lifetime time.Duration) {
	s.publish(content, lifetime, subjects...)
}

func (s *Service) publish(content any, lifetime time.Duration, subjects ...string) {
	s.pubMu.Lock()
	switch s.life {
	case lifeHeld:
		subjects = slices.Clone(subjects)
		s.heldOps = append(s.heldOps, func() {
			s.pubMu.Lock()
			s.publishLocked(content, lifetime, subjects)
		})
		s.pubMu.Unlock()
		return
	case lifeRetired:
		// the previous version finishing its work speaks for its successor
		next := s.successor
		s.pubMu.Unlock()
		if next != nil {
			next.publish(content, lifetime, subjects...)
		}
		return
	case lifeEnded:
		s.pubMu.Unlock()
		return
	}
	s.publishLocked(content, lifetime, subjects)
}

// publishLocked delivers and caches a report; it is called with pubMu
// held and releases it.
func (s *Service) publishLocked(content any, lifetime time.Duration, subjects []string) {
	now := time.Now()
	var delivered, dropped uint64
	for _, subj := range subjects {
		msg := &reportMsg{pub: s.b, subject: subj, content: content, time: now}
		s.cacheReport(msg, lifetime, now)
		for _, sub := range s.subscribers {
			if sub.pattern.Match(subj) {
				if deliver(sub, msg) {
					delivered++
				} else {
					dropped++
				}
			}
		}
	}
	s.pubMu.Unlock()
	s.rt.countReports(uint64(len(subjects)), delivered, dropped)
}

func (rt *Runtime) countReports(published, delivered, dropped uint64) {
	rt.stats.ReportsPublished.Add(published)
	if delivered > 0 {
		rt.stats.ReportsDelivered.Add(delivered)
	}
	if dropped > 0 {
		rt.stats.ReportsDropped.Add(dropped)
	}
}

// cacheReport applies lifetime to the cache; pubMu is held.
func (s *Service) cacheReport(msg *reportMsg, lifetime time.Duration, now time.Time) {
	if lifetime == 0 {
		if s.cache != nil {
			delete(s.cache, msg.subject)
		}
		return
	}
	if s.cache == nil {
		s.cache = make(map[string]*cachedReport)
	}
	c := &cachedReport{msg: msg}
	if lifetime > 0 {
		c.expires = now.Add(lifetime)
	}
	s.cacheSeq++
	c.seq = s.cacheSeq
	s.cache[msg.subject] = c
	if len(s.cache) > 2*s.cacheSwept+64 {
		s.purgeLocked(now)
		s.cacheSwept = len(s.cache)
	}
}

// deliver queues msg for one subscription; false means the subscriber's
// mailbox was full (or closed) and the report was dropped.
func deliver(sub *reportSub, msg *reportMsg) bool {
	return sub.agent.mb.push(entry{kind: entryReport, sub: sub, msg: msg}, true)
}

func (a *Agent) deliverReport(sub *reportSub, msg *reportMsg) {
	if !sub.active || sub.subscriber.Destroyed() {
		return
	}
	sub.fn(Report{
		Publisher: msg.pub,
		Subject:   msg.subject,
		Pattern:   sub.pattern.String(),
		Content:   msg.content,
		Time:      msg.time,
	})
}

// SendReport sends a report to one subscriber only, once for each of its
// subscriptions to this service whose pattern matches subject; it is never
// cached. It returns how many deliveries were queued.
func (s *Service) SendReport(to *Binding, subject string, content any) int {
	if to == nil {
		return 0
	}
	s.pubMu.Lock()
	switch s.life {
	case lifeHeld:
		s.heldOps = append(s.heldOps, func() {
			s.pubMu.Lock()
			s.sendLocked(to, subject, content)
		})
		s.pubMu.Unlock()
		return 0
	case lifeRetired:
		next := s.successor
		s.pubMu.Unlock()
		if next != nil {
			return next.SendReport(to, subject, content)
		}
		return 0
	case lifeEnded:
		s.pubMu.Unlock()
		return 0
	}
	return s.sendLocked(to, subject, content)
}

// sendLocked is SendReport's delivery; it is called with pubMu held and
// releases it.
func (s *Service) sendLocked(to *Binding, subject string, content any) int {
	var delivered, dropped uint64
	msg := &reportMsg{pub: s.b, subject: subject, content: content, time: time.Now()}
	for _, sub := range s.subscribers {
		if sub.binding == to && sub.pattern.Match(subject) {
			if deliver(sub, msg) {
				delivered++
			} else {
				dropped++
			}
		}
	}
	s.pubMu.Unlock()
	s.rt.countReports(0, delivered, dropped)
	return int(delivered)
}

// MonitorReports subscribes to reports of target whose subject matches
// pattern. A name target covers every service of that name, now and
// later. Cached reports that match are delivered at once. Subscribing
// again to the same target and pattern only replaces fn.
func (s *Service) MonitorReports(target Target, pattern string, fn ReportFunc) {
	if s.Destroying() || s.life == lifeRetired {
		return
	}
	k := repKey{target: target.key(), pattern: pattern}
	r := &s.rt.reg
	r.lockFor(s.agent)
	defer r.unlock()
	if sub := s.repSubs[k]; sub != nil {
		sub.fn = fn
		return
	}
	sub := &reportSub{agent: s.agent, binding: s.b, subscriber: s, key: k.target, pattern: subject.Compile(pattern), fn: fn, active: true}
	if s.repSubs == nil {
		s.repSubs = make(map[repKey]*reportSub)
	}
	s.repSubs[k] = sub
	if s.life != lifeHeld {
		r.addReportSub(sub)
	}
}

// addReportSub indexes sub and attaches it to its publishers; registry.mu is held.
func (r *registry) addReportSub(sub *reportSub) {
	r.repIndex[sub.key] = append(r.repIndex[sub.key], sub)
	for _, pub := range r.publishers(sub.key) {
		r.attach(sub, pub)
	}
}

// IgnoreReports cancels the subscriptions to target with the given
// patterns, or every subscription to target when no pattern is given.
func (s *Service) IgnoreReports(target Target, patterns ...string) {
	tk := target.key()
	r := &s.rt.reg
	r.lockFor(s.agent)
	defer r.unlock()
	for k, sub := range s.repSubs {
		if k.target == tk && (len(patterns) == 0 || slices.Contains(patterns, k.pattern)) {
			r.dropReportSub(sub)
		}
	}
}

// IgnoreAll cancels every report subscription of the service.
func (s *Service) IgnoreAll() {
	r := &s.rt.reg
	r.lockFor(s.agent)
	defer r.unlock()
	for _, sub := range s.repSubs {
		r.dropReportSub(sub)
	}
}

// publishers returns the registered local services a subscription key
// attaches to; registry.mu is held.
func (r *registry) publishers(k targetKey) []*Service {
	var out []*Service
	if k.identity != "" {
		if b := r.byID[k.identity]; b != nil && b.svc != nil {
			out = append(out, b.svc)
		}
		return out
	}
	for _, b := range r.byName[k.name] {
		if b.svc != nil {
			out = append(out, b.svc)
		}
	}
	return out
}

// attach connects sub to publisher pub and delivers pub's matching cached
// reports; registry.mu is held.
func (r *registry) attach(sub *reportSub, pub *Service) {
	sb := sub.subscriber
	if sb.publishers == nil {
		sb.publishers = make(map[*Binding]int)
	}
	if sb.publishers[pub.b] == 0 {
		r.notifyPublisher(sb, PublisherNotification{Publisher: pub.b, Subscriber: sb.b, Status: Available})
	}
	sb.publishers[pub.b]++
	now := time.Now()
	var delivered, dropped uint64
	pub.pubMu.Lock()
	pub.subscribers = append(pub.subscribers, sub)
	for _, c := range pub.cachedInOrder(now) {
		if sub.pattern.Match(c.msg.subject) {
			if deliver(sub, c.msg) {
				delivered++
			} else {
				dropped++
			}
		}
	}
	pub.pubMu.Unlock()
	pub.rt.countReports(0, delivered, dropped)
	r.notifySubscription(pub, SubscriptionEvent{Subscriber: sb.b, Status: SubscriptionRequested, Pattern: sub.pattern.String()})
}

// detach disconnects sub from pub at the subscriber's request; registry.mu is held.
func (r *registry) detach(sub *reportSub, pub *Service) {
	pub.pubMu.Lock()
	pub.subscribers = remove(pub.subscribers, sub)
	pub.pubMu.Unlock()
	r.notifySubscription(pub, SubscriptionEvent{Subscriber: sub.subscriber.b, Status: SubscriptionWithdrawn, Pattern: sub.pattern.String()})
	sb := sub.subscriber
	if sb.publishers[pub.b]--; sb.publishers[pub.b] <= 0 {
		delete(sb.publishers, pub.b)
	}
}

// dropReportSub removes sub everywhere; registry.mu is held.
func (r *registry) dropReportSub(sub *reportSub) {
	sub.active = false
	delete(sub.subscriber.repSubs, repKey{target: sub.key, pattern: sub.pattern.String()})
	if sub.subscriber.life == lifeHeld {
		return // never attached
	}
	r.repIndex[sub.key] = remove(r.repIndex[sub.key], sub)
	if len(r.repIndex[sub.key]) == 0 {
		delete(r.repIndex, sub.key)
	}
	for _, pub := range r.publishers(sub.key) {
		r.detach(sub, pub)
	}
}

// detachPublisher disconnects every subscriber of a publisher that is
// being withdrawn and tells each subscriber once; registry.mu is held.
func (r *registry) detachPublisher(pub *Service) {
	pub.pubMu.Lock()
	subs := pub.subscribers
	pub.subscribers = nil
	pub.cache = nil
	pub.pubMu.Unlock()
	seen := make(map[*Service]bool, len(subs))
	for _, sub := range subs {
		sb := sub.subscriber
		if seen[sb] {
			continue
		}
		seen[sb] = true
		delete(sb.publishers, pub.b)
		r.notifyPublisher(sb, PublisherNotification{Publisher: pub.b, Subscriber: sb.b, Status: Withdrawn})
	}
}

// notifyPublisher and notifySubscription queue a hook call for whichever
// version of service s answers for its binding when the call runs;
// registry.mu is held.
func (r *registry) notifyPublisher(s *Service, n PublisherNotification) {
	b := s.b
	r.notice(s.agent, func() {
		if cur := b.svc; cur != nil && !cur.Destroyed() && cur.hooks.PublisherNotification != nil {
			cur.hooks.PublisherNotification(n)
		}
	})
}

func (r *registry) notifySubscription(s *Service, ev SubscriptionEvent) {
	b := s.b
	r.notice(s.agent, func() {
		if cur := b.svc; cur != nil && !cur.Destroyed() && cur.hooks.Subscription != nil {
			cur.hooks.Subscription(ev)
		}
	})
}

// cachedInOrder returns the live cached reports in publish order,
// dropping expired ones; pubMu is held.
func (s *Service) cachedInOrder(now time.Time) []*cachedReport {
	if len(s.cache) == 0 {
		return nil
	}
	out := make([]*cachedReport, 0, len(s.cache))
	for subj, c := range s.cache {
		if c.expired(now) {
			delete(s.cache, subj)
			continue
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(x, y *cachedReport) int {
		switch {
		case x.seq < y.seq:
			return -1
		case x.seq > y.seq:
			return 1
		}
		return 0
	})
	return out
}

// ExpireReports drops cached reports whose subject matches pattern and
// that were published at least age ago (age 0: all of them).
func (s *Service) ExpireReports(pattern string, age time.Duration) {
	p := subject.Compile(pattern)
	if s.hold(func() { s.expire(func(c *cachedReport) bool { return p.Match(c.msg.subject) }, age) }) {
		return
	}
	s.expire(func(c *cachedReport) bool { return p.Match(c.msg.subject) }, age)
}

// ExpireAllReports drops cached reports published at least age ago.
func (s *Service) ExpireAllReports(age time.Duration) {
	all := func(*cachedReport) bool { return true }
	if s.hold(func() { s.expire(all, age) }) {
		return
	}
	s.expire(all, age)
}

func (s *Service) expire(match func(*cachedReport) bool, age time.Duration) {
	now := time.Now()
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	for subj, c := range s.cache {
		if match(c) && now.Sub(c.msg.time) >= age {
			delete(s.cache, subj)
		}
	}
}

// PurgeReports drops cached reports whose lifetime has passed (they are
// never delivered, but hold memory until purged or replaced).
func (s *Service) PurgeReports() {
	purge := func() {
		s.pubMu.Lock()
		defer s.pubMu.Unlock()
		s.purgeLocked(time.Now())
	}
	if s.hold(purge) {
		return
	}
	purge()
}

func (s *Service) purgeLocked(now time.Time) {
	for subj, c := range s.cache {
		if c.expired(now) {
			delete(s.cache, subj)
		}
	}
}

// CachedSubjects returns the subjects of the live cached reports, in
// publish order. It may be called from any goroutine.
func (s *Service) CachedSubjects() []string {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	var out []string
	for _, c := range s.cachedInOrder(time.Now()) {
		out = append(out, c.msg.subject)
	}
	return out
}

// Forward hands one report of this (remote) publisher to subscriber to:
// to each of its subscriptions to this service whose pattern is exactly
// pattern and matches subject, with the original publish time at. It is
// not cached. It returns how many deliveries were queued (a full mailbox
// drops, as for Publish). It may be called from any goroutine; reports
// forwarded from one goroutine keep their order. The exchange uses it to
// deliver what a publisher of another process sent for one subscription.
func (s *Service) Forward(to *Binding, pattern, subject string, content any, at time.Time) int {
	if to == nil {
		return 0
	}
	var delivered, dropped uint64
	s.pubMu.Lock()
	if s.life == lifeEnded || s.life == lifeHeld {
		s.pubMu.Unlock()
		return 0
	}
	var msg *reportMsg
	for _, sub := range s.subscribers {
		if sub.binding == to && sub.pattern.String() == pattern && sub.pattern.Match(subject) {
			if msg == nil {
				msg = &reportMsg{pub: s.b, subject: subject, content: content, time: at}
			}
			if deliver(sub, msg) {
				delivered++
			} else {
				dropped++
			}
		}
	}
	s.pubMu.Unlock()
	s.rt.countReports(0, delivered, dropped)
	return int(delivered)
}
