package exchange

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/agentd/agentd/internal/config"

	"github.com/agentd/agentd/runtime"
)

// Options configure an Exchange.
type Options struct {
	// Logger: default, the runtime's.
	Logger *slog.Logger
	// Version is agentd's version, told to peers.
	Version string
	// OnContentLimit is told the largest content (report content, request
	// arguments, a result, encoded) the endpoints can all carry, whenever
	// it changes: MaxContentSize, or less for a NATS server with a
	// smaller payload limit; 0 once no endpoint is left.
	OnContentLimit func(int)
}

// An Exchange links a runtime to other processes through its endpoints.
// Its methods may be called from any goroutine.
type Exchange struct {
	rt      *runtime.Runtime
	log     *slog.Logger
	version string
	inc     string // this process's incarnation: random, one per run

	mu       sync.Mutex
	eps      []*endpoint
	limit    int // the content limit told last
	starting int // endpoints being started
	onLim    func(int)

	stats counters
}

// New returns an exchange for rt with no endpoint.
func New(rt *runtime.Runtime, opts Options) *Exchange {
	if opts.Logger == nil {
		opts.Logger = rt.Logger()
	}
	return &Exchange{rt: rt, log: opts.Logger, version: opts.Version, inc: randomHex(8), onLim: opts.OnContentLimit}
}

// Incarnation returns this run's incarnation, the random token that
// tells it from earlier and later runs of the same process identity.
func (x *Exchange) Incarnation() string { return x.inc }

// Add starts an endpoint. A client that cannot connect yet keeps trying
// in the background (unless its retry is 0); an error means the endpoint
// could not start at all (a hub that cannot listen, a bad TLS file).
func (x *Exchange) Add(cfg EndpointConfig) error {
	if err := Validate(cfg); err != nil {
		return err
	}
	// the endpoint's content limit applies before it connects: scripts
	// told of the connection already find it
	x.mu.Lock()
	for _, e := range x.eps {
		if e.cfg.Group == cfg.Group && sharesURL(e.cfg.Connect, cfg.Connect) {
			x.mu.Unlock()
			return fmt.Errorf("exchange: two endpoints of one process in group %q of the same deployment (%s): use one", cfg.Group, strings.Join(cfg.Connect, ","))
		}
	}
	x.starting++
	x.mu.Unlock()
	x.updateLimit()
	e := newEndpoint(x, cfg)
	err := e.start()
	x.mu.Lock()
	x.starting--
	if err == nil {
		x.eps = append(x.eps, e)
	}
	x.mu.Unlock()
	x.updateLimit()
	return err
}

// contentLimit is the largest encoded content every endpoint can carry
// (0: no endpoint); x.mu is held.
func (x *Exchange) contentLimit() int {
	n := 0
	if x.starting > 0 {
		n = MaxContentSize
	}
	for _, e := range x.eps {
		if l := int(e.limit.Load()); n == 0 || l < n {
			n = l
		}
	}
	return n
}

// updateLimit tells OnContentLimit of a changed limit.
func (x *Exchange) updateLimit() {
	x.mu.Lock()
	n := x.contentLimit()
	changed := n != x.limit
	x.limit = n
	fn := x.onLim
	x.mu.Unlock()
	if changed && fn != nil {
		fn(n)
	}
}

// Remove stops the endpoint configured as cfg: the services seen through
// it are withdrawn. It reports whether there was one.
func (x *Exchange) Remove(cfg EndpointConfig) bool {
	x.mu.Lock()
	i := slices.IndexFunc(x.eps, func(e *endpoint) bool { return sameEndpoint(e.cfg, cfg) })
	if i < 0 {
		x.mu.Unlock()
		return false
	}
	e := x.eps[i]
	x.eps = slices.Delete(x.eps, i, i+1)
	x.mu.Unlock()
	e.agent.Stop()
	<-e.agent.Done()
	x.updateLimit()
	return true
}

// Endpoints returns the configurations of the running endpoints.
func (x *Exchange) Endpoints() []EndpointConfig {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make([]EndpointConfig, 0, len(x.eps))
	for _, e := range x.eps {
		out = append(out, e.cfg)
	}
	return out
}

// HubAddr returns the address the hub of the first server endpoint
// listens on ("" without one): with port 0 in the configuration, the
// port it picked.
func (x *Exchange) HubAddr() string {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, e := range x.eps {
		if e.hub != nil {
			return e.hub.Addr()
		}
	}
	return ""
}

// Close stops every endpoint (bounded by ctx). The runtime's orderly
// shutdown stops them itself, after every other agent; Close is for an
// exchange whose runtime goes on.
func (x *Exchange) Close(ctx context.Context) error {
	x.mu.Lock()
	eps := x.eps
	x.eps = nil
	x.mu.Unlock()
	for _, e := range eps {
		e.agent.Stop()
	}
	for _, e := range eps {
		select {
		case <-e.agent.Done():
		case <-ctx.Done():
			return fmt.Errorf("exchange: close: %w", ctx.Err())
		}
	}
	return nil
}

func sharesURL(a, b []string) bool {
	for _, u := range a {
		if slices.Contains(b, u) {
			return true
		}
	}
	return false
}

func sameEndpoint(a, b EndpointConfig) bool {
	return a.Role == b.Role && a.Group == b.Group && a.Listen == b.Listen && slices.Equal(a.Connect, b.Connect) &&
		a.Retry == b.Retry && a.Token == b.Token && a.TLS == b.TLS && a.Insecure == b.Insecure &&
		a.Cluster.Name == b.Cluster.Name && a.Cluster.Listen == b.Cluster.Listen && slices.Equal(a.Cluster.Routes, b.Cluster.Routes)
}

// MaxContentSize is the largest encoded content (report content, request
// arguments, a result) one exchange message can carry: the payload limit
// less room for the envelope.
const MaxContentSize = maxPayload - envelopeRoom

// envelopeRoom bounds a message's fields other than its content: kinds,
// identities, subject and pattern (each far below this in practice).
const envelopeRoom = 16 << 10

// Validate checks an endpoint configuration for what the exchange needs.
func Validate(cfg EndpointConfig) error {
	switch cfg.Role {
	case RoleServer:
		if cfg.Listen == "" {
			return errors.New("exchange: a server endpoint needs listen")
		}
	case RoleClient:
		if len(cfg.Connect) == 0 {
			return errors.New("exchange: a client endpoint needs at least one URL in connect")
		}
	default:
		return fmt.Errorf("exchange: unknown role %q", cfg.Role)
	}
	if !ValidGroup(cfg.Group) {
		return fmt.Errorf("exchange: group %q: want letters, digits, '-' and '_' (not first), at most 64", cfg.Group)
	}
	if cfg.Role == RoleClient && (cfg.Cluster.Listen != "" || len(cfg.Cluster.Routes) > 0 || cfg.Cluster.Name != "") {
		return errors.New("exchange: only a server endpoint clusters")
	}
	if cfg.Cluster.Listen == "" && (len(cfg.Cluster.Routes) > 0 || cfg.Cluster.Name != "") {
		return errors.New("exchange: a cluster needs a listen address for routes")
	}
	if (cfg.TLS.Cert == "") != (cfg.TLS.Key == "") {
		return errors.New("exchange: tls: cert and key must be given together")
	}
	if cfg.Role == RoleServer && cfg.TLS.CA != "" && cfg.TLS.Cert == "" {
		return errors.New("exchange: a hub verifies client certificates only over TLS: give it a cert and key")
	}
	return checkExposure(cfg)
}

// ValidGroup reports whether g can name an exchange group: "" (the
// default group), or 1 to 64 ASCII letters, digits, '-' and '_', not
// beginning with '_'. The configuration decoder applies the same rule.
func ValidGroup(g string) bool { return config.ValidGroup(g) }

// Stats are the exchange's counters.
type Stats struct {
	Sent, Received                      uint64 // messages
	ReportsOut, ReportsIn               uint64
	RequestsOut, RequestsIn             uint64
	Malformed                           uint64 // dropped: not a message of this protocol
	Stale                               uint64 // dropped: for an earlier run or session, or an answer nobody waits for
	Unroutable                          uint64 // dropped: for a service that is not there
	Refused                             uint64 // hellos of another major version
	Gaps                                uint64 // sequence gaps (each starts a resync)
	Duplicates                          uint64 // services seen through two paths
	SlowConsumer                        uint64 // NATS dropped messages for us
	EncodeErrors, Oversized, SendErrors uint64
	Connects, ConnectFailures           uint64
}

type counters struct {
	Sent, Received, ReportsOut, ReportsIn, RequestsOut, RequestsIn, Malformed, Stale, Unroutable,
	Refused, Gaps, Duplicates, SlowConsumer, EncodeErrors, Oversized, SendErrors, Connects, ConnectFailures atomic.Uint64
}

// Stats returns the counters.
func (x *Exchange) Stats() Stats {
	c := &x.stats
	return Stats{
		Sent: c.Sent.Load(), Received: c.Received.Load(), ReportsOut: c.ReportsOut.Load(), ReportsIn: c.ReportsIn.Load(),
		RequestsOut: c.RequestsOut.Load(), RequestsIn: c.RequestsIn.Load(), Malformed: c.Malformed.Load(),
		Stale: c.Stale.Load(), Unroutable: c.Unroutable.Load(), Refused: c.Refused.Load(), Gaps: c.Gaps.Load(),
		Duplicates: c.Duplicates.Load(), SlowConsumer: c.SlowConsumer.Load(), EncodeErrors: c.EncodeErrors.Load(),
		Oversized: c.Oversized.Load(), SendErrors: c.SendErrors.Load(), Connects: c.Connects.Load(),
		ConnectFailures: c.ConnectFailures.Load(),
	}
}
