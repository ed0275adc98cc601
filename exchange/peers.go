package exchange

import (
	"slices"
	"sort"

	"github.com/agentd/agentd/runtime"
)

// peer is another agentd process seen on an endpoint.
type peer struct {
	inc  string // its incarnation: one run of the process
	proc string // its process identity, host:pid
	sess uint64
	hub  bool

	// services: stand-ins of its services, registered here, by identity.
	services map[string]*runtime.Service
	// proxies: the services that act here for its subscribers and
	// requesters, by identity: its stand-in when the service is visible
	// here, else an unregistered one (a service of audience "" can still
	// subscribe and call).
	proxies map[string]*runtime.Service
	// subs: what its subscribers subscribed to here (through proxies).
	subs map[subInfo]bool
	// outSubs: what our subscribers subscribed to of its services.
	outSubs map[subInfo]bool
	// incoming: its requests being answered here, by its conversation id.
	incoming map[string]incomingRequest
}

// incomingRequest is a peer's request sent on here by a proxy.
type incomingRequest struct {
	proxy *runtime.Service
	cid   string // the proxy's conversation
}

func (e *endpoint) newPeer(inc, proc string, sess uint64) *peer {
	// a new run of a process we know: the old run is gone
	for _, old := range e.peerList() {
		if proc != "" && old.proc == proc {
			e.gone(old, "it restarted")
		}
	}
	p := &peer{inc: inc, proc: proc, sess: sess,
		services: make(map[string]*runtime.Service),
		proxies:  make(map[string]*runtime.Service),
		subs:     make(map[subInfo]bool),
		outSubs:  make(map[subInfo]bool),
		incoming: make(map[string]incomingRequest),
	}
	e.peers[inc] = p
	e.log.Info("exchange: peer joined", "peer", proc)
	return p
}

// peerList returns the peers in a stable order.
func (e *endpoint) peerList() []*peer {
	out := make([]*peer, 0, len(e.peers))
	for _, p := range e.peers {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].inc < out[j].inc })
	return out
}

// gone forgets a peer: its services are withdrawn here, requests
// forwarded to it fail, its subscriptions here end.
func (e *endpoint) gone(p *peer, cause string) {
	if e.peers[p.inc] != p {
		return
	}
	delete(e.peers, p.inc)
	e.heardMu.Lock()
	delete(e.heard, p.inc)
	e.heardMu.Unlock()
	select {
	case e.forget <- p.inc:
	default: // the reader forgets it later anyway (forgetSilent)
	}
	e.log.Info("exchange: peer gone: its services are withdrawn", "peer", p.proc, "cause", cause, "services", len(p.services))
	e.failForwarded(p, "process "+p.proc+" lost: "+cause)
	e.dropProxies(p)
	for _, id := range sortedKeys(p.services) {
		e.withdrawn(p, id)
	}
	p.outSubs = nil
}

// reset starts the conversation with p over: requests forwarded to it
// fail, and its subscriptions here end (it sends them again).
func (e *endpoint) reset(p *peer, cause string) {
	e.failForwarded(p, "process "+p.proc+": "+cause)
	e.dropProxies(p)
}

func (e *endpoint) failForwarded(p *peer, details string) {
	for _, id := range sortedKeys(e.forwarded) {
		if f := e.forwarded[id]; f.peer == p.inc {
			delete(e.forwarded, id)
			f.r.Fail(runtime.NewFailure(runtime.ServerApplicationError, details))
		}
	}
}

// dropProxies ends every subscription p's subscribers have here.
func (e *endpoint) dropProxies(p *peer) {
	for id, s := range p.proxies {
		if p.services[id] == s {
			s.IgnoreAll()
		} else {
			s.Destroy()
		}
	}
	clear(p.proxies)
	clear(p.subs)
}

// snapshot makes p's stand-ins match the services it lists.
func (e *endpoint) snapshot(p *peer, svcs []svcInfo) {
	seen := make(map[string]bool, len(svcs))
	for _, s := range svcs {
		seen[s.ID] = true
		e.available(p, s)
	}
	for _, id := range sortedKeys(p.services) {
		if !seen[id] {
			e.withdrawn(p, id)
		}
	}
}

// available makes a stand-in for one of p's services, or brings an
// existing one's groups up to date.
func (e *endpoint) available(p *peer, info svcInfo) {
	if !e.visibleHere(info.Audience) {
		e.stats.Unroutable.Add(1)
		return
	}
	if s := p.services[info.ID]; s != nil {
		for _, g := range s.Groups() {
			if !slices.Contains(info.Groups, g) {
				s.LeaveGroup(g)
			}
		}
		for _, g := range info.Groups {
			_ = s.JoinGroup(g)
		}
		return
	}
	s, err := e.agent.NewRemoteService(runtime.ServiceConfig{Name: info.Name, Audience: info.Audience, Groups: validGroups(info.Groups)}, info.ID, p.proc)
	if err != nil {
		e.stats.Malformed.Add(1)
		return
	}
	id := info.ID
	s.SetHooks(runtime.Hooks{
		Subscription:  func(ev runtime.SubscriptionEvent) { e.localSubscription(p, id, ev) },
		InvalidMethod: func(r *runtime.Request) { e.forward(p, id, r) },
	})
	if err := s.Register(); err != nil {
		// seen through another endpoint (or a stale run): the first wins
		e.stats.Duplicates.Add(1)
		e.log.Debug("exchange: service already visible through another path", "service", info.Name, "identity", id)
		s.Dispose()
		return
	}
	p.services[id] = s
	e.standMu.Lock()
	e.stand[id] = standIn{svc: s, inc: p.inc}
	e.standMu.Unlock()
}

func validGroups(gs []string) []string {
	return slices.DeleteFunc(slices.Clone(gs), func(g string) bool { return g == "" })
}

// withdrawn withdraws the stand-in of one of p's services.
func (e *endpoint) withdrawn(p *peer, id string) {
	s := p.services[id]
	if s == nil {
		return
	}
	delete(p.services, id)
	e.standMu.Lock()
	if e.stand[id].svc == s {
		delete(e.stand, id)
	}
	e.standMu.Unlock()
	if p.proxies[id] == s {
		delete(p.proxies, id)
		for k := range p.subs {
			if k.Sub == id {
				delete(p.subs, k)
			}
		}
	}
	for k := range p.outSubs {
		if k.Pub == id {
			delete(p.outSubs, k)
		}
	}
	// requests it took fail with a cause, before the withdrawal's own
	for rid, f := range e.forwarded {
		if f.peer == p.inc && f.r.To() == s.Binding() {
			delete(e.forwarded, rid)
			f.r.Fail(runtime.NewFailure(runtime.ServerApplicationError, "service withdrawn by process "+p.proc))
		}
	}
	s.Destroy()
}

// sweepProxies destroys unregistered proxies that act for nothing any
// more: no subscription, no request of theirs on its way.
func (e *endpoint) sweepProxies() {
	for _, p := range e.peerList() {
		busy := map[string]bool{}
		for k := range p.subs {
			busy[k.Sub] = true
		}
		for _, in := range p.incoming {
			busy[in.proxy.Binding().Identity()] = true
		}
		for _, id := range sortedKeys(p.proxies) {
			s := p.proxies[id]
			if p.services[id] != s && !busy[id] && s.Waiting() == 0 {
				delete(p.proxies, id)
				s.Destroy()
			}
		}
	}
}

// visibleHere reports whether a service of that audience travels on
// this endpoint.
func (e *endpoint) visibleHere(audience string) bool {
	return audience == runtime.AudienceAll || (audience != runtime.AudienceProcess && audience == e.cfg.Group)
}

// localChange follows the local registry (on the agent goroutine): local
// services that travel here are announced to every peer.
func (e *endpoint) localChange(ev runtime.RegistryEvent) {
	b := ev.Binding
	if b.Location() != runtime.Local || !e.visibleHere(b.Audience()) {
		return
	}
	id := b.Identity()
	switch {
	case ev.Group == "" && ev.Status == runtime.Available:
		info := &svcInfo{ID: id, Name: b.Name(), Audience: b.Audience()}
		e.local[id] = info
		e.send(allSubject(e.g), &message{Kind: kAvailable, Proc: e.rt.ProcessIdentity(), Svcs: []svcInfo{*info}})
	case ev.Group == "":
		delete(e.local, id)
		e.send(allSubject(e.g), &message{Kind: kWithdrawn, ID: id})
		// peers' subscriptions to it end here (they hear of the withdrawal)
		for _, p := range e.peerList() {
			for _, k := range sortedSubs(p.subs) {
				if k.Pub == id {
					e.unsubscribe(p, k)
				}
			}
		}
	case ev.Status == runtime.Available:
		if info := e.local[id]; info != nil && !slices.Contains(info.Groups, ev.Group) {
			info.Groups = append(info.Groups, ev.Group)
		}
		e.send(allSubject(e.g), &message{Kind: kJoin, ID: id, Group: ev.Group})
	default:
		if info := e.local[id]; info != nil {
			info.Groups = slices.DeleteFunc(info.Groups, func(g string) bool { return g == ev.Group })
		}
		e.send(allSubject(e.g), &message{Kind: kLeave, ID: id, Group: ev.Group})
	}
}

// localList lists the local services that travel here, in a stable order.
func (e *endpoint) localList() []svcInfo {
	out := make([]svcInfo, 0, len(e.local))
	for _, id := range sortedKeys(e.local) {
		out = append(out, *e.local[id])
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sortedSubs(m map[subInfo]bool) []subInfo {
	out := make([]subInfo, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b subInfo) int {
		switch {
		case a.Pub != b.Pub:
			return compare(a.Pub, b.Pub)
		case a.Sub != b.Sub:
			return compare(a.Sub, b.Sub)
		}
		return compare(a.Pattern, b.Pattern)
	})
	return out
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
