package exchange

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentd/agentd/internal/wire"
	"github.com/agentd/agentd/runtime"
	"github.com/nats-io/nats.go"
)

// endpoint is one connection of this process to a service space: a NATS
// connection (to its own hub for a server endpoint), one group, and an
// agent of the runtime that owns everything the endpoint does there.
//
// Goroutines: the endpoint's agent (its owner goroutine) keeps the
// state: peers, stand-ins, forwarded requests, what it sends. The reader
// goroutine takes every message of the endpoint from one channel, in wire
// order, checks sequence numbers, hands reports straight to their local
// subscribers (runtime.Service.Forward may run on any goroutine) and posts
// everything else to the agent. nats.go's handlers only post to the agent.
type endpoint struct {
	x      *Exchange
	cfg    EndpointConfig
	log    *slog.Logger
	rt     *runtime.Runtime
	agent  *runtime.Agent
	self   *runtime.Service // the endpoint's own service (audience "": never travels)
	g      string           // group token
	hub    *hub             // server endpoints
	nc     *nats.Conn
	in     chan *nats.Msg
	stop   chan struct{}
	done   chan struct{} // the reader has ended
	forget chan string   // incarnations gone: the reader forgets them

	// Owned by the agent goroutine.
	connected  bool
	sess       uint64
	seqAll     uint64
	seqTo      map[string]uint64
	buf        []byte
	peers      map[string]*peer                   // by incarnation
	local      map[string]*svcInfo                // local services that travel on this endpoint, by identity
	forwarded  map[string]*forwardedRequest       // requests sent to peers, by conversation id
	refused    map[string]bool                    // incarnations of another major version, logged once
	joined     map[string]runtime.ConnectionEvent // a hub's connected agentd clients, by incarnation
	dial       []nats.Option                      // a client's connection options
	clientConn map[string]uint64                  // a hub's clients: their current connection's id, by incarnation
	closing    bool

	// Stand-ins of remote publishers by identity, for the reader.
	standMu sync.RWMutex
	stand   map[string]standIn

	// Reader goroutine only.
	rd      *wire.Reader // aliasing: strings share the message's bytes
	scratch message      // the message being read
	rx      map[string]*rxState
	rxSize  atomic.Int64 // len(rx), for tests

	// heard: when each peer was last heard from (reader writes, agent reads).
	heardMu sync.Mutex
	heard   map[string]time.Time

	limit      atomic.Int64 // the largest content this endpoint's connection carries
	stats      *counters
	slowLogged atomic.Bool // the slow-consumer warning was logged
}

// standIn is the stand-in of a remote publisher, with the incarnation
// whose reports it takes.
type standIn struct {
	svc *runtime.Service
	inc string
}

// rxState is what the reader knows of one sender's streams.
type rxState struct {
	sess    uint64
	all, to uint64    // last sequence number seen on each stream
	heard   time.Time // when it was last heard from
}

// forwardedRequest is a local request carried to a peer.
type forwardedRequest struct {
	r    *runtime.Request
	peer string // incarnation
}

func newEndpoint(x *Exchange, cfg EndpointConfig) *endpoint {
	e := &endpoint{
		x:          x,
		cfg:        cfg,
		log:        x.log.With("endpoint", describe(cfg)),
		rt:         x.rt,
		g:          groupToken(cfg.Group),
		in:         make(chan *nats.Msg, inboxSize),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
		forget:     make(chan string, 256),
		rd:         wire.NewAliasingReader(nil),
		seqTo:      make(map[string]uint64),
		peers:      make(map[string]*peer),
		local:      make(map[string]*svcInfo),
		forwarded:  make(map[string]*forwardedRequest),
		refused:    make(map[string]bool),
		joined:     make(map[string]runtime.ConnectionEvent),
		clientConn: make(map[string]uint64),
		stand:      make(map[string]standIn),
		rx:         make(map[string]*rxState),
		heard:      make(map[string]time.Time),
		stats:      &x.stats,
	}
	e.limit.Store(MaxContentSize)
	return e
}

// inboxSize bounds the messages waiting for the reader; past it NATS
// drops them (a slow consumer), which the sequence numbers reveal.
const inboxSize = 1 << 16

func describe(cfg EndpointConfig) string {
	if cfg.Role == RoleServer {
		return "server " + cfg.Listen
	}
	return "client " + strings.Join(cfg.Connect, ",")
}

// start makes the endpoint's agent and service, starts the hub of a
// server endpoint, and connects.
func (e *endpoint) start() error {
	a, err := e.rt.NewAgentWith("exchange "+describe(e.cfg), runtime.AgentOptions{StopLast: true, NoWait: true, MailboxSize: 1 << 20})
	if err != nil {
		return err
	}
	e.agent = a
	var startErr error
	if err := a.Do(func() { startErr = e.startOnAgent() }); err != nil {
		return err
	}
	if startErr != nil {
		a.Stop()
		<-a.Done()
		return startErr
	}
	return nil
}

func (e *endpoint) startOnAgent() error {
	s, err := e.agent.NewService(runtime.ServiceConfig{Name: "", Audience: runtime.AudienceProcess})
	if err != nil {
		return err
	}
	e.self = s
	go e.read()
	e.agent.OnExit(e.shutdown)
	if e.cfg.Role == RoleServer {
		h, err := startHub(e.cfg, e.rt.ProcessIdentity(), e.log)
		if err != nil {
			return err
		}
		e.hub = h
		e.log.Info("exchange hub listening", "addr", h.Addr(), "group", e.cfg.Group)
	}
	// the local services that travel here: a snapshot, then every change
	// (the endpoint's own service is never registered: no script sees it)
	s.SubscribeRegistry(e.localChange)
	s.StartTimer(HeartbeatInterval, "heartbeat", e.tick)
	return e.connect()
}

// connect opens the NATS connection; for a client it retries as configured.
//
// A client makes its first connection itself, one attempt per retry, so
// that every failed attempt (refused, no route, a wrong token, a TLS
// handshake that fails) is reported; nats.go reports only some of them
// while it retries a first connection. Once connected, nats.go
// reconnects after a loss, and reports each failed attempt.
func (e *endpoint) connect() error {
	name := clientName(e.x.inc, e.g, e.rt.ProcessIdentity())
	post := func(fn func()) { _ = e.agent.Post(fn) }
	opts := []nats.Option{
		nats.Name(name),
		nats.ReconnectBufSize(-1), // nothing of an old session is flushed into a new one
		nats.ConnectHandler(func(nc *nats.Conn) { post(func() { e.up(nc) }) }),
		nats.ReconnectHandler(func(nc *nats.Conn) { post(func() { e.up(nc) }) }),
		// the loss goes through the reader's queue, behind the messages
		// that came before it: a last report is handed on, not dropped
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { e.queueDown(err) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { e.asyncError(err) }),
	}
	if e.hub != nil {
		opts = append(opts, e.hub.participantOptions()...)
		opts = append(opts, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
		nc, err := nats.Connect("", opts...)
		if err != nil {
			return fmt.Errorf("exchange: joining the hub: %w", err)
		}
		if err := e.takeSubjects(nc); err != nil {
			return err
		}
		return e.hub.watchClients(e.clientEvent)
	}
	more, err := clientOptions(e.cfg)
	if err != nil {
		return err
	}
	opts = append(opts, more...)
	if e.cfg.Retry > 0 {
		opts = append(opts, nats.MaxReconnects(-1), nats.IgnoreAuthErrorAbort(),
			nats.ReconnectWait(e.cfg.Retry), nats.ReconnectJitter(e.cfg.Retry/10, e.cfg.Retry/10),
			nats.ReconnectErrHandler(func(_ *nats.Conn, err error) { post(func() { e.failed(err) }) }))
	} else {
		opts = append(opts, nats.NoReconnect())
	}
	e.dial = opts
	e.attempt("")
	return nil
}

// attempt makes one attempt at a client's first connection, and arranges
// the next one (after retry) if it fails.
func (e *endpoint) attempt(string) {
	if e.closing || e.nc != nil {
		return
	}
	nc, err := nats.Connect(strings.Join(e.cfg.Connect, ","), e.dial...)
	if err == nil {
		err = e.takeSubjects(nc)
	}
	if err != nil {
		e.failed(err)
		if e.cfg.Retry > 0 {
			e.self.StartTimer(e.cfg.Retry, "connect", e.attempt)
		}
	}
}

// takeSubjects subscribes to the endpoint's subjects on nc, into one queue.
func (e *endpoint) takeSubjects(nc *nats.Conn) error {
	for _, subj := range []string{helloSubject(e.g), allSubject(e.g), toSubject(e.g, e.x.inc)} {
		sub, err := nc.ChanSubscribe(subj, e.in)
		if err != nil {
			nc.Close()
			return fmt.Errorf("exchange: subscribe %s: %w", subj, err)
		}
		_ = sub.SetPendingLimits(-1, -1) // the channel is the bound
	}
	// the server has the subscriptions once Add returns
	if err := nc.FlushTimeout(5 * time.Second); err != nil && !nc.IsClosed() {
		e.log.Warn("exchange: subscriptions not confirmed by the server", "error", err)
	}
	e.nc = nc
	return nil
}

// clientOptions are a client endpoint's security options: its token,
// and TLS when it has a CA (to verify the hub) or a certificate (to
// present); a tls:// URL without either verifies the hub against the
// system's roots.
func clientOptions(cfg EndpointConfig) ([]nats.Option, error) {
	var o []nats.Option
	if cfg.Token != "" {
		o = append(o, nats.Token(cfg.Token))
	}
	files, err := loadTLS(cfg.TLS)
	if err != nil {
		return nil, err
	}
	if files.cert != nil || files.pool != nil {
		o = append(o, nats.Secure(files.clientTLS()))
	}
	return o, nil
}

// up runs when the connection is (re)established: a new session.
func (e *endpoint) up(nc *nats.Conn) {
	if e.closing || nc.IsClosed() {
		return
	}
	e.nc = nc
	e.connected = true
	e.stats.Connects.Add(1)
	if l := min(nc.MaxPayload()-envelopeRoom, MaxContentSize); l != e.limit.Load() && l > 0 {
		e.limit.Store(l)
		e.x.updateLimit()
	}
	e.newSession()
	e.log.Info("exchange connected", "url", nc.ConnectedUrlRedacted(), "session", e.sess)
	if e.hub == nil {
		e.rt.AnnounceConnection(runtime.ConnectionEvent{
			Key:           e.key(),
			State:         runtime.ConnectionActive,
			RemoteProcess: serverProcess(nc.ConnectedServerName()),
			RemoteAddress: hostPort(nc.ConnectedUrl()),
			LocalAddress:  localAddr(nc),
			Group:         e.cfg.Group,
			Role:          RoleClient,
		})
	}
}

// newSession begins a session: a hello, then a snapshot of the local
// services, each stream numbered from 1 again.
func (e *endpoint) newSession() {
	e.sess++
	e.seqAll = 0
	clear(e.seqTo)
	e.sendHello()
	_ = e.send(allSubject(e.g), e.snapshotMessage())
}

// snapshotMessage lists the local services that travel here.
func (e *endpoint) snapshotMessage() *message {
	return &message{Kind: kSnapshot, Proc: e.rt.ProcessIdentity(), Svcs: e.localList()}
}

// sendState sends p our snapshot, then our subscriptions to its services.
func (e *endpoint) sendState(p *peer) {
	_ = e.sendTo(p.inc, e.snapshotMessage())
	e.sendSubs(p)
}

// down runs when the connection is lost: every remote service seen
// through it is withdrawn at once, and requests to them fail.
func (e *endpoint) down(err error) {
	if !e.connected {
		return
	}
	e.connected = false
	cause := "connection to the hub lost"
	if err != nil {
		cause += ": " + err.Error()
	}
	if e.closing {
		e.log.Info("exchange endpoint stopped: withdrawing the services seen through it", "peers", len(e.peers))
	} else {
		e.log.Warn("exchange disconnected: withdrawing the services seen through it", "error", err, "peers", len(e.peers))
	}
	for _, p := range e.peerList() {
		e.gone(p, cause)
	}
	if e.hub == nil {
		e.rt.AnnounceConnection(runtime.ConnectionEvent{
			Key:           e.key(),
			State:         runtime.ConnectionInactive,
			RemoteAddress: hostPortOf(e.cfg.Connect),
			Group:         e.cfg.Group,
			Role:          RoleClient,
		})
	}
}

// failed runs for each failed connection attempt of a client.
func (e *endpoint) failed(err error) {
	if e.closing {
		return
	}
	e.stats.ConnectFailures.Add(1)
	attrs := []any{"error", err, "retry", e.cfg.Retry}
	if hint := connectHint(err); hint != "" {
		attrs = append(attrs, "hint", hint)
	}
	e.log.Warn("exchange connection attempt failed", attrs...)
	e.rt.AnnounceConnection(runtime.ConnectionEvent{
		Key:           e.key(),
		State:         runtime.ConnectionInactive,
		RemoteAddress: hostPortOf(e.cfg.Connect),
		Group:         e.cfg.Group,
		Role:          RoleClient,
		Failed:        true,
	})
}

func (e *endpoint) asyncError(err error) {
	if errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) || errors.Is(err, nats.ErrAuthRevoked) {
		_ = e.agent.Post(func() { e.failed(err) }) // a reconnection refused
		return
	}
	if err == nats.ErrSlowConsumer {
		e.stats.SlowConsumer.Add(1)
		if !e.slowLogged.Swap(true) {
			e.log.Warn("exchange: messages dropped because they arrived faster than agentd took them (slow consumer); lost messages are resynchronised")
		}
		return
	}
	e.log.Warn("exchange", "error", err)
}

// clientEvent runs on a nats.go goroutine of a hub for every client that
// connects or disconnects.
func (e *endpoint) clientEvent(ev clientEvent) {
	inc, group, proc, ok := parseClientName(ev.Name)
	if !ok || inc == e.x.inc {
		return
	}
	_ = e.agent.Post(func() {
		// a client that reconnects quickly may have a new connection
		// before the end of its old one is seen: only the end of its
		// current connection counts
		if ev.Connected {
			e.clientConn[inc] = ev.ID
		} else if id, ok := e.clientConn[inc]; ok && id != ev.ID {
			return
		} else {
			delete(e.clientConn, inc)
		}
		state := runtime.ConnectionActive
		if !ev.Connected {
			state = runtime.ConnectionInactive
			// tell that process's group: it is gone
			e.sendUnsequenced(allSubject(group), &message{Kind: kGone, ID: inc, Details: "connection closed: " + ev.Reason})
			if p := e.peers[inc]; p != nil && group == e.g {
				e.gone(p, "connection closed: "+ev.Reason)
			}
		}
		ce := runtime.ConnectionEvent{
			Key:           e.key() + "/" + inc,
			State:         state,
			RemoteProcess: proc,
			RemoteAddress: ev.Host,
			LocalAddress:  e.hub.Addr(),
			Group:         groupName(group),
			Role:          RoleServer,
		}
		if ev.Connected {
			e.joined[inc] = ce
		} else {
			delete(e.joined, inc)
		}
		e.rt.AnnounceConnection(ce)
	})
}

// key names the endpoint's connection in connection events.
func (e *endpoint) key() string { return "exchange " + describe(e.cfg) }

// shutdown runs as the agent's last act: say bye, close the connection
// and stop the hub. The connections end: services still running (an
// endpoint removed by SIGHUP) are told.
func (e *endpoint) shutdown() {
	e.closing = true
	if e.nc != nil {
		if e.connected {
			e.send(allSubject(e.g), &message{Kind: kBye})
			_ = e.nc.FlushTimeout(time.Second)
			if e.hub == nil {
				e.down(nil)
			}
		}
		e.nc.Close()
	}
	for _, inc := range sortedKeys(e.joined) {
		ce := e.joined[inc]
		ce.State = runtime.ConnectionInactive
		e.rt.AnnounceConnection(ce)
	}
	clear(e.joined)
	close(e.stop)
	<-e.done
	if e.hub != nil {
		e.hub.shutdown()
	}
	for _, p := range e.peerList() {
		e.gone(p, "exchange stopped")
	}
}

// tick sends a heartbeat and finds peers that fell silent.
func (e *endpoint) tick(string) {
	if e.connected {
		last := make(map[string]uint64, len(e.seqTo))
		for inc, n := range e.seqTo {
			if e.peers[inc] != nil {
				last[inc] = n
			}
		}
		_ = e.send(allSubject(e.g), &message{Kind: kHeartbeat, Proc: e.rt.ProcessIdentity(), Last: last})
	}
	e.sweepForwarded()
	e.sweepProxies()
	now := time.Now()
	e.heardMu.Lock()
	var silent []*peer
	for inc, p := range e.peers {
		if at, ok := e.heard[inc]; ok && now.Sub(at) > HeartbeatTimeout {
			silent = append(silent, p)
		}
	}
	e.heardMu.Unlock()
	for _, p := range silent {
		e.gone(p, fmt.Sprintf("not heard from for %v", HeartbeatTimeout))
	}
	e.self.StartTimer(HeartbeatInterval, "heartbeat", e.tick)
}

func (e *endpoint) sendHello() {
	e.sendUnsequenced(helloSubject(e.g), &message{Kind: kHello, Major: ProtocolMajor, Minor: ProtocolMinor,
		Proc: e.rt.ProcessIdentity(), Version: e.x.version, Hub: e.hub != nil})
}

// send publishes m on subj with this session's next sequence number for
// that stream. Nothing is sent while disconnected: a new session begins
// with a full snapshot. A message that cannot be encoded or is over the
// connection's size limit is not sent and uses no sequence number (the
// receiver would take the hole for lost messages); the error says why.
func (e *endpoint) send(subj string, m *message) error {
	if !e.connected {
		return errNotConnected
	}
	counter := &e.seqAll
	if m.To != "" {
		n := e.seqTo[m.To]
		counter = &n
		defer func() { e.seqTo[m.To] = n }()
	}
	m.Seq = *counter + 1
	if err := e.publish(subj, m); err != nil {
		return err
	}
	*counter = m.Seq
	return nil
}

// sendTo sends m to one peer's directed stream.
func (e *endpoint) sendTo(inc string, m *message) error {
	m.To = inc
	return e.send(toSubject(e.g, inc), m)
}

// sendUnsequenced publishes a message outside the sequenced streams
// (hello, refuse, gone).
func (e *endpoint) sendUnsequenced(subj string, m *message) {
	if !e.connected {
		return
	}
	_ = e.publish(subj, m)
}

var errNotConnected = errors.New("not connected")

// publish encodes m and publishes it. An encoding error or a message over
// the connection's limit is counted, logged and returned; a failed
// publish (the connection going down) is counted and returned.
func (e *endpoint) publish(subj string, m *message) error {
	m.Inc, m.Sess = e.x.inc, e.sess
	b, err := m.encode(e.buf[:0])
	if err != nil {
		e.stats.EncodeErrors.Add(1)
		e.log.Error("exchange: message cannot be encoded: not sent", "kind", m.Kind, "error", err)
		return err
	}
	e.buf = b
	if limit := e.nc.MaxPayload(); int64(len(b)) > limit {
		e.stats.Oversized.Add(1)
		e.log.Error("exchange: message over the connection's size limit: not sent", "kind", m.Kind, "bytes", len(b), "limit", limit)
		return fmt.Errorf("%d bytes encoded, over the connection's limit of %d", len(b), limit)
	}
	if err := e.nc.Publish(subj, b); err != nil {
		e.stats.SendErrors.Add(1)
		return err
	}
	e.stats.Sent.Add(1)
	return nil
}

// lostMark is the subject of the mark queueDown puts in the reader's
// queue (no NATS subject can be empty).
const lostMark = ""

// queueDown queues the loss of the connection behind what was received.
func (e *endpoint) queueDown(err error) {
	m := &nats.Msg{Subject: lostMark}
	if err != nil {
		m.Data = []byte(err.Error())
	}
	select {
	case e.in <- m:
	case <-e.stop:
	}
}

// read is the reader goroutine.
func (e *endpoint) read() {
	defer close(e.done)
	prune := time.NewTicker(forgetAfter)
	defer prune.Stop()
	for {
		select {
		case <-e.stop:
			return
		case msg := <-e.in:
			e.receive(msg)
		case <-prune.C:
			e.forgetSilent()
		case inc := <-e.forget:
			delete(e.rx, inc)
			e.rxSize.Store(int64(len(e.rx)))
		}
	}
}

// forgetAfter: what the reader knows of a sender not heard from for this
// long is forgotten (it was declared gone long before).
const forgetAfter = 10 * HeartbeatTimeout

// forgetSilent drops the state of senders not heard from for forgetAfter.
func (e *endpoint) forgetSilent() {
	now := time.Now()
	for inc, rx := range e.rx {
		if now.Sub(rx.heard) > forgetAfter {
			delete(e.rx, inc)
		}
	}
	e.rxSize.Store(int64(len(e.rx)))
	e.heardMu.Lock()
	for inc, at := range e.heard {
		if now.Sub(at) > forgetAfter {
			delete(e.heard, inc)
		}
	}
	e.heardMu.Unlock()
}

// receive checks one message and dispatches it. Anything malformed,
// foreign or stale is dropped and counted.
func (e *endpoint) receive(msg *nats.Msg) {
	if msg.Subject == lostMark {
		var err error
		if msg.Data != nil {
			err = errors.New(string(msg.Data))
		}
		_ = e.agent.Post(func() { e.down(err) })
		return
	}
	e.stats.Received.Add(1)
	// Decoded in place: its strings share msg.Data, which nats.go made for
	// this message alone and nobody changes. A report is handled here and
	// its message struct reused; any other message is copied for the agent.
	e.rd.Reset(msg.Data)
	m := &e.scratch
	*m = message{}
	err := m.decode(e.rd)
	if err == nil && m.Kind != kReport {
		cp := *m
		m = &cp
	}
	if err != nil {
		e.stats.Malformed.Add(1)
		e.log.Debug("exchange: malformed message dropped", "subject", msg.Subject, "error", err)
		return
	}
	if m.Inc == e.x.inc {
		return // our own broadcast
	}
	if strings.HasPrefix(msg.Subject, "agentd.hello.") {
		if m.Kind != kHello && m.Kind != kRefuse {
			e.stats.Malformed.Add(1)
			return
		}
		e.noteHeard(m.Inc)
		_ = e.agent.Post(func() { e.hello(m) })
		return
	}
	if m.To != "" && m.To != e.x.inc {
		e.stats.Stale.Add(1) // for a previous run of this process
		return
	}
	if m.Kind == kGone { // a hub's notice: not sequenced
		_ = e.agent.Post(func() { e.goneNotice(m) })
		return
	}
	rx := e.rx[m.Inc]
	switch {
	case rx == nil || m.Sess > rx.sess:
		rx = &rxState{sess: m.Sess}
		e.rx[m.Inc] = rx
		e.rxSize.Store(int64(len(e.rx)))
	case m.Sess < rx.sess:
		e.stats.Stale.Add(1) // an earlier session of that process
		return
	}
	rx.heard = time.Now()
	// A directed stream is numbered from 1 in each session of its sender,
	// so it is checked from its first message; the broadcast stream only
	// from the first message seen (we may have joined after it began).
	var lost int64
	switch last := &rx.all; {
	case m.To != "":
		lost = int64(m.Seq) - int64(rx.to) - 1
		if lost < 0 {
			e.stats.Stale.Add(1) // a repeat
			return
		}
		rx.to = m.Seq
	case *last != 0 && m.Seq <= *last:
		e.stats.Stale.Add(1)
		return
	default:
		if *last != 0 {
			lost = int64(m.Seq) - int64(*last) - 1
		}
		*last = m.Seq
	}
	// a heartbeat says how many directed messages it sent us: a lost last
	// one shows here, not only when the next one comes
	if m.Kind == kHeartbeat {
		if n, ok := m.Last[e.x.inc]; ok && n > rx.to {
			lost += int64(n - rx.to)
			rx.to = n
		}
	}
	e.noteHeard(m.Inc)
	if m.Kind == kReport {
		e.report(m)
	} else {
		_ = e.agent.Post(func() { e.handle(m) })
	}
	if lost > 0 {
		// after the message that revealed the gap (an answer among them)
		e.stats.Gaps.Add(1)
		inc := m.Inc
		_ = e.agent.Post(func() { e.resync(inc, fmt.Sprintf("%d messages lost", lost)) })
	}
}

func (e *endpoint) noteHeard(inc string) {
	e.heardMu.Lock()
	e.heard[inc] = time.Now()
	e.heardMu.Unlock()
}

// report hands a report from a remote publisher to its local subscriber.
func (e *endpoint) report(m *message) {
	e.standMu.RLock()
	pub := e.stand[m.Pub]
	e.standMu.RUnlock()
	sub := e.rt.LookupServiceAddress(m.Sub)
	if pub.svc == nil || pub.inc != m.Inc || sub == nil || sub.Location() != runtime.Local {
		// (a report of an earlier run of the process is not its new run's)
		e.stats.Unroutable.Add(1)
		return
	}
	pub.svc.Forward(sub, m.Pattern, m.Subject, m.Content, time.Unix(0, m.Time))
	e.stats.ReportsIn.Add(1)
}

// handle runs a message on the agent goroutine.
func (e *endpoint) handle(m *message) {
	if e.closing {
		return
	}
	p := e.peers[m.Inc]
	if p == nil {
		switch m.Kind {
		case kSnapshot:
			if m.Proc == "" {
				e.stats.Malformed.Add(1)
				return
			}
			p = e.newPeer(m.Inc, m.Proc, m.Sess)
		case kBye:
			return
		case kHeartbeat, kAvailable, kSync:
			// We never heard its hello: it was lost, or (in a cluster) sent
			// before the routes carried our subscriptions, or we joined
			// and hear its broadcast before its answer to our hello. Ask
			// for everything, and handle this message too: a sync is
			// answered with our snapshot and subscriptions. Nothing it
			// sent us directly was dropped (that would have come first,
			// below): it keeps its requests and subscriptions.
			if m.Proc == "" && m.Kind != kSync {
				e.stats.Malformed.Add(1)
				return
			}
			p = e.newPeer(m.Inc, m.Proc, m.Sess)
			e.sendTo(p.inc, &message{Kind: kSync, Details: "unknown sender", Keep: true})
		default:
			// we never heard its hello (or dropped it): ask for everything
			p = e.newPeer(m.Inc, "", m.Sess)
			e.sendTo(p.inc, &message{Kind: kSync, Details: "unknown sender"})
			return
		}
	}
	switch m.Kind {
	case kHeartbeat:
	case kBye:
		e.gone(p, "it left")
	case kSnapshot:
		if m.Proc != "" {
			p.proc = m.Proc
		}
		e.snapshot(p, m.Svcs)
	case kAvailable:
		for _, s := range m.Svcs {
			e.available(p, s)
		}
	case kWithdrawn:
		e.withdrawn(p, m.ID)
	case kJoin:
		if s := p.services[m.ID]; s != nil {
			_ = s.JoinGroup(m.Group)
		}
	case kLeave:
		if s := p.services[m.ID]; s != nil {
			s.LeaveGroup(m.Group)
		}
	case kSync:
		// a sync that keeps asks for our snapshot and subscriptions only,
		// unless it comes from a session we have not heard begin (its
		// hello was lost: it dropped everything of ours)
		if !m.Keep || m.Sess != p.sess {
			p.sess = m.Sess
			e.reset(p, "it lost messages ("+m.Details+")")
		}
		e.sendState(p)
	case kSubs:
		e.subscriptions(p, m.Subs)
	case kSubscribe:
		e.subscribe(p, subInfo{Pub: m.Pub, Sub: m.Sub, Pattern: m.Pattern})
	case kUnsub:
		e.unsubscribe(p, subInfo{Pub: m.Pub, Sub: m.Sub, Pattern: m.Pattern})
	case kRequest:
		e.request(p, m)
	case kResponse, kFailure:
		e.answer(p, m)
	case kCancel:
		e.cancel(p, m.ID)
	default:
		e.stats.Malformed.Add(1)
	}
}

// hello handles a process (re)joining, or another major version.
func (e *endpoint) hello(m *message) {
	if e.closing {
		return
	}
	if m.Kind == kRefuse {
		if m.To == e.x.inc && !e.refused[m.Inc] {
			e.refused[m.Inc] = true
			e.log.Error("exchange: a peer refuses this agentd's protocol version", "peer", m.Proc, "its_major", m.Major, "our_major", ProtocolMajor)
		}
		return
	}
	if m.Major != ProtocolMajor {
		e.stats.Refused.Add(1)
		if !e.refused[m.Inc] {
			if len(e.refused) > 1000 {
				clear(e.refused) // log again rather than grow without bound
			}
			e.refused[m.Inc] = true
			e.log.Error("exchange: refusing a peer of another protocol version", "peer", m.Proc, "its_major", m.Major, "our_major", ProtocolMajor)
			e.sendUnsequenced(helloSubject(e.g), &message{Kind: kRefuse, To: m.Inc, Major: ProtocolMajor, Minor: ProtocolMinor, Proc: e.rt.ProcessIdentity()})
		}
		return
	}
	p := e.peers[m.Inc]
	switch {
	case p == nil:
		p = e.newPeer(m.Inc, m.Proc, m.Sess)
	case m.Sess != p.sess:
		// it reconnected: it dropped everything of ours
		p.sess = m.Sess
		e.reset(p, "it reconnected")
	}
	p.proc, p.hub = m.Proc, m.Hub
	e.sendState(p)
}

// goneNotice handles a hub's notice that a process's connection is lost.
func (e *endpoint) goneNotice(m *message) {
	if m.ID == e.x.inc {
		// about us, and yet we are here (a connection of ours ended while a
		// new one began): everyone dropped us, so start a new session
		if e.connected && !e.closing {
			e.log.Info("exchange: a hub reported this process gone: joining again")
			for _, p := range e.peerList() {
				e.reset(p, "it took this process for gone")
			}
			e.newSession()
			for _, p := range e.peerList() {
				e.sendSubs(p)
			}
		}
		return
	}
	if p := e.peers[m.ID]; p != nil {
		e.gone(p, m.Details)
	}
}

// resync runs when messages from a peer were lost: both sides start
// their conversation over.
func (e *endpoint) resync(inc, why string) {
	p := e.peers[inc]
	if p == nil || e.closing {
		return
	}
	e.log.Warn("exchange: messages from a peer were lost: resynchronising", "peer", p.proc, "why", why)
	e.reset(p, "messages from it were lost")
	e.sendTo(inc, &message{Kind: kSync, Details: why})
	e.sendSubs(p)
}

// The helpers below read addresses for connection events.

func serverProcess(name string) string {
	if p, ok := strings.CutPrefix(name, "agentd:"); ok {
		return p
	}
	return name
}

func hostPort(u string) string {
	if x, err := url.Parse(u); err == nil && x.Host != "" {
		return x.Host
	}
	return u
}

func hostPortOf(urls []string) string {
	var out []string
	for _, u := range urls {
		out = append(out, hostPort(u))
	}
	return strings.Join(out, ",")
}

func localAddr(nc *nats.Conn) string {
	if a, err := nc.GetClientIP(); err == nil {
		return a.String()
	}
	return ""
}

func groupName(token string) string {
	if token == "_" {
		return ""
	}
	return token
}

// parseClientName reads "agentd/INC/GROUP/PROCESS".
func parseClientName(name string) (inc, group, proc string, ok bool) {
	parts := strings.SplitN(name, "/", 4)
	if len(parts) != 4 || parts[0] != "agentd" || parts[1] == "" {
		return "", "", "", false
	}
	return parts[1], parts[2], parts[3], true
}
