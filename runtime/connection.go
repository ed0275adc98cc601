package runtime

import (
	"slices"
	"strings"
)

// ConnectionState is told to connection hooks, numbered as OSE's
// CONNECTION_ACTIVE and CONNECTION_INACTIVE.
type ConnectionState int

// Connection states.
const (
	ConnectionActive   ConnectionState = 0
	ConnectionInactive ConnectionState = 1
)

// ConnectionEvent describes one change of an exchange connection.
type ConnectionEvent struct {
	// Key names the connection: the events of one connection share it.
	// While a connection is active, a service registered later is told
	// of it (see AnnounceConnection).
	Key string

	State         ConnectionState
	RemoteProcess string // the process at the other end ("" when unknown, e.g. a failed attempt)
	RemoteAddress string // its network address
	LocalAddress  string
	Group         string // the endpoint's exchange group
	Role          string // "server" or "client": this endpoint's role
	Failed        bool   // a client's connection attempt failed
}

// AnnounceConnection tells every live service with a Connection hook
// about ev. Like registry announcements it is never dropped; it is
// delivered to whichever version of a service runs when it arrives (a hot
// reload in between hands it to the new version). An active connection is
// remembered under ev.Key until an inactive event of that key: a service
// registered meanwhile is told of it (ACTIVE) right after it is
// registered, so a script loaded after the exchange connected still
// learns that it is. It may be called from any goroutine.
func (rt *Runtime) AnnounceConnection(ev ConnectionEvent) {
	// under connMu, so that the remembered state, the generation and the
	// order of the notices pushed agree (see tellConnections)
	rt.connMu.Lock()
	defer rt.connMu.Unlock()
	if ev.State == ConnectionActive {
		if rt.conns == nil {
			rt.conns = make(map[string]ConnectionEvent)
		}
		rt.conns[ev.Key] = ev
	} else {
		delete(rt.conns, ev.Key)
	}
	rt.connGen++
	gen := rt.connGen
	for _, a := range rt.agentsSnapshot() {
		a.mb.push(entry{kind: entryNotice, fn: func() {
			for _, s := range a.Services() {
				// a service told the state at its registration already
				// knows of the events before it
				if s.life == lifeLive && s.hooks.Connection != nil && s.connSeen < gen {
					s.hooks.Connection(ev)
				}
			}
		}}, false)
	}
}

// tellConnections queues, for a service just registered, an ACTIVE event
// for each connection active now, and records that it knows the state up
// to now.
func (s *Service) tellConnections() {
	rt := s.rt
	rt.connMu.Lock()
	defer rt.connMu.Unlock()
	s.connSeen = rt.connGen
	if len(rt.conns) == 0 || s.hooks.Connection == nil {
		return
	}
	evs := make([]ConnectionEvent, 0, len(rt.conns))
	for _, ev := range rt.conns {
		evs = append(evs, ev)
	}
	slices.SortFunc(evs, func(x, y ConnectionEvent) int { return strings.Compare(x.Key, y.Key) })
	b := s.b
	s.agent.mb.push(entry{kind: entryNotice, fn: func() {
		if cur := b.svc; cur != nil && cur.life == lifeLive && cur.hooks.Connection != nil {
			for _, ev := range evs {
				cur.hooks.Connection(ev)
			}
		}
	}}, false)
}
