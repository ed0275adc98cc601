package runtime

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
// reload in between hands it to the new version). It may be called from
// any goroutine.
func (rt *Runtime) AnnounceConnection(ev ConnectionEvent) {
	for _, a := range rt.agentsSnapshot() {
		a.mb.push(entry{kind: entryNotice, fn: func() {
			for _, s := range a.Services() {
				if s.life == lifeLive && s.hooks.Connection != nil {
					s.hooks.Connection(ev)
				}
			}
		}}, false)
	}
}
