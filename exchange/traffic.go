package exchange

import (
	"github.com/agentd/agentd/runtime"
)

// localSubscription runs when a local subscriber attaches to, or leaves,
// the stand-in of p's service id: p is asked to deliver (or stop).
func (e *endpoint) localSubscription(p *peer, id string, ev runtime.SubscriptionEvent) {
	if ev.Subscriber.Location() != runtime.Local || e.peers[p.inc] != p {
		return // only local subscribers are carried; nothing is relayed
	}
	k := subInfo{Pub: id, Sub: ev.Subscriber.Identity(), Pattern: ev.Pattern}
	if ev.Status == runtime.SubscriptionRequested {
		p.outSubs[k] = true
		e.sendTo(p.inc, &message{Kind: kSubscribe, Pub: k.Pub, Sub: k.Sub, Pattern: k.Pattern})
		return
	}
	delete(p.outSubs, k)
	e.sendTo(p.inc, &message{Kind: kUnsub, Pub: k.Pub, Sub: k.Sub, Pattern: k.Pattern})
}

// sendSubs sends p every subscription our subscribers have to its services.
func (e *endpoint) sendSubs(p *peer) {
	e.sendTo(p.inc, &message{Kind: kSubs, Subs: append([]subInfo{}, sortedSubs(p.outSubs)...)})
}

// subscriptions makes p's subscriptions here exactly the listed ones.
func (e *endpoint) subscriptions(p *peer, list []subInfo) {
	want := make(map[subInfo]bool, len(list))
	for _, k := range list {
		want[k] = true
	}
	for _, k := range sortedSubs(p.subs) {
		if !want[k] {
			e.unsubscribe(p, k)
		}
	}
	for _, k := range list {
		if !p.subs[k] {
			e.subscribe(p, k)
		}
	}
}

// subscribe subscribes p's subscriber k.Sub to the local publisher k.Pub:
// the publisher's cached reports and later ones go to p.
func (e *endpoint) subscribe(p *peer, k subInfo) {
	pub := e.rt.LookupServiceAddress(k.Pub)
	if pub == nil || pub.Location() != runtime.Local || !e.visibleHere(pub.Audience()) || p.subs[k] {
		return // withdrawn meanwhile (p hears of it), or not ours to give
	}
	proxy := e.proxy(p, k.Sub)
	p.subs[k] = true
	inc, sub := p.inc, k.Sub
	proxy.MonitorReports(runtime.Address(k.Pub), k.Pattern, func(r runtime.Report) {
		if e.peers[inc] != p {
			return
		}
		e.sendTo(inc, &message{Kind: kReport, Pub: r.Publisher.Identity(), Sub: sub, Pattern: r.Pattern,
			Subject: r.Subject, Time: r.Time.UnixNano(), Content: r.Content})
		e.stats.ReportsOut.Add(1)
	})
}

func (e *endpoint) unsubscribe(p *peer, k subInfo) {
	if !p.subs[k] {
		return
	}
	delete(p.subs, k)
	if proxy := p.proxies[k.Sub]; proxy != nil {
		proxy.IgnoreReports(runtime.Address(k.Pub), k.Pattern)
	}
}

// proxy returns the service that acts here for p's service id: its
// stand-in, or an unregistered service with its identity.
func (e *endpoint) proxy(p *peer, id string) *runtime.Service {
	if s := p.proxies[id]; s != nil && !s.Destroyed() {
		return s
	}
	s := p.services[id]
	if s == nil {
		var err error
		s, err = e.agent.NewRemoteService(runtime.ServiceConfig{}, id, p.proc)
		if err != nil {
			return nil
		}
	}
	p.proxies[id] = s
	return s
}

// forward carries a local request addressed to the stand-in of p's
// service id to p.
func (e *endpoint) forward(p *peer, id string, r *runtime.Request) {
	if e.peers[p.inc] != p || !e.connected {
		r.Fail(runtime.NewFailure(runtime.ServerApplicationError, "process "+p.proc+" is not connected"))
		return
	}
	if r.Sender.Location() != runtime.Local {
		r.Fail(runtime.NewFailure(runtime.ClientServiceUnavailable, "requests are not relayed between processes"))
		return
	}
	m := &message{Kind: kRequest, ID: r.ID, From: r.Sender.Identity(), Target: id, Method: r.Method, Args: r.Args}
	if r.Args == nil {
		m.Args = []any{}
	}
	if err := e.sendTo(p.inc, m); err != nil {
		code := runtime.ClientRequestEncodingError
		if err == errNotConnected {
			code = runtime.ServerApplicationError
		}
		r.Fail(runtime.NewFailure(code, "request not sent to process "+p.proc+": "+err.Error()))
		return
	}
	e.forwarded[r.ID] = &forwardedRequest{r: r, peer: p.inc}
	e.stats.RequestsOut.Add(1)
}

// sweepForwarded forgets requests whose caller stopped waiting (timed out,
// ignored, destroyed) and tells their peers to stop too.
func (e *endpoint) sweepForwarded() {
	for _, id := range sortedKeys(e.forwarded) {
		f := e.forwarded[id]
		if f.r.Abandoned() {
			delete(e.forwarded, id)
			_ = e.sendTo(f.peer, &message{Kind: kCancel, ID: id})
		}
	}
}

// request runs a request from p's service m.From to a local service.
func (e *endpoint) request(p *peer, m *message) {
	fail := func(code int, details string) {
		f := runtime.NewFailure(code, details)
		_ = e.sendTo(p.inc, &message{Kind: kFailure, ID: m.ID, Code: int64(f.Code), Description: f.Description, Origin: f.Origin, Details: f.Details})
	}
	to := e.rt.LookupServiceAddress(m.Target)
	switch {
	case to == nil || to.Location() != runtime.Local:
		fail(runtime.ServerApplicationError, "Service was withdrawn before response received.")
		return
	case !e.visibleHere(to.Audience()):
		fail(runtime.ClientServiceUnavailable, m.Target)
		return
	}
	proxy := e.proxy(p, m.From)
	if proxy == nil {
		fail(runtime.ServerUnknownError, "no sender")
		return
	}
	e.stats.RequestsIn.Add(1)
	inc, id := p.inc, m.ID
	cid := proxy.SendRequest(to.Target(), m.Method, m.Args)
	p.incoming[id] = incomingRequest{proxy: proxy, cid: cid}
	answer := func(reply *message) {
		if e.peers[inc] != p {
			return
		}
		delete(p.incoming, id)
		if err := e.sendTo(inc, reply); err != nil && err != errNotConnected && reply.Kind == kResponse {
			// the result cannot travel: the caller must not wait for it
			f := runtime.NewFailure(runtime.ServerResponseEncodingError, err.Error())
			_ = e.sendTo(inc, &message{Kind: kFailure, ID: id, Code: int64(f.Code), Description: f.Description, Origin: f.Origin, Details: f.Details})
		}
	}
	proxy.ProcessResponse(cid, func(res any, _ string) {
		answer(&message{Kind: kResponse, ID: id, Content: res})
	})
	proxy.ProcessFailure(cid, func(f *runtime.Failure) {
		answer(&message{Kind: kFailure, ID: id, Code: int64(f.Code), Description: f.Description, Origin: f.Origin, Details: f.Details})
	}, 0)
}

// cancel ends a request of p whose caller stopped waiting.
func (e *endpoint) cancel(p *peer, id string) {
	if in, ok := p.incoming[id]; ok {
		delete(p.incoming, id)
		in.proxy.IgnoreResponse(in.cid)
	}
}

// answer completes a request forwarded to p.
func (e *endpoint) answer(p *peer, m *message) {
	f := e.forwarded[m.ID]
	if f == nil || f.peer != p.inc {
		e.stats.Stale.Add(1) // answered already, timed out, or not ours
		return
	}
	delete(e.forwarded, m.ID)
	if m.Kind == kResponse {
		f.r.Reply(m.Content)
		return
	}
	f.r.Fail(&runtime.Failure{Code: int(m.Code), Description: m.Description, Origin: m.Origin, Details: m.Details})
}
