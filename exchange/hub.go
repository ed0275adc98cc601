package exchange

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// hub is an embedded nats-server: the hub of a server endpoint. Clients
// authenticate with the endpoint's token (if any) into the global
// account; the hub itself watches clients come and go through a system
// user only it knows.
type hub struct {
	cfg  EndpointConfig
	log  *slog.Logger
	ns   *server.Server
	auth *hubAuth
	sys  *nats.Conn // in the system account: connect and disconnect events

	watchStop, watchDone chan struct{} // the goroutine that reads them
}

// clientEvent is a client connection seen by a hub.
type clientEvent struct {
	Connected bool
	ID        uint64 // the server's id of the client connection
	Name      string // the client's name: agentd clients are named by clientName
	Host      string // its address
	Reason    string // why it disconnected
}

// startHub starts the hub of a server endpoint. It fails, at once, when
// the hub cannot listen (an address in use) or a TLS file is unusable.
func startHub(cfg EndpointConfig, proc string, log *slog.Logger) (*hub, error) {
	opts, err := hubOptions(cfg, proc)
	if err != nil {
		return nil, err
	}
	auth := &hubAuth{token: cfg.Token, sysUser: "agentd-system", sysPass: randomHex(16)}
	opts.CustomClientAuthentication = auth
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("exchange: hub on %s: %w", cfg.Listen, err)
	}
	nl := &natsLogger{log: log.With("nats", "hub"), fatal: make(chan string, 1)}
	ns.SetLoggerV2(nl, false, false, false)
	ns.Start()
	deadline := time.Now().Add(10 * time.Second)
	for !ns.ReadyForConnections(50 * time.Millisecond) {
		select {
		case msg := <-nl.fatal:
			ns.Shutdown()
			ns.WaitForShutdown()
			return nil, fmt.Errorf("exchange: hub on %s cannot start: %s", cfg.Listen, msg)
		default:
		}
		if time.Now().After(deadline) {
			ns.Shutdown()
			ns.WaitForShutdown()
			return nil, fmt.Errorf("exchange: hub on %s did not start", cfg.Listen)
		}
	}
	auth.mu.Lock()
	auth.sys, auth.app = ns.SystemAccount(), ns.GlobalAccount()
	auth.mu.Unlock()
	if auth.sys == nil || auth.app == nil {
		ns.Shutdown()
		return nil, errors.New("exchange: hub: no system or global account")
	}
	return &hub{cfg: cfg, log: log, ns: ns, auth: auth, watchStop: make(chan struct{})}, nil
}

// hubOptions builds the nats-server options of a server endpoint of
// process proc: its listener, with TLS when the endpoint has a
// certificate (and client certificates verified when it has a CA), and
// its routes to other hubs when it clusters. Routes authenticate with a
// user and password derived from the token (routePassword) and, with a
// certificate, use TLS both ways.
func hubOptions(cfg EndpointConfig, proc string) (*server.Options, error) {
	host, port, err := splitHostPort(cfg.Listen)
	if err != nil {
		return nil, err
	}
	files, err := loadTLS(cfg.TLS)
	if err != nil {
		return nil, err
	}
	opts := &server.Options{
		ServerName:   "agentd:" + proc, // clients read the hub's process from it
		Host:         host,
		Port:         port,
		NoSigs:       true,
		NoLog:        true,
		PingInterval: hubPingInterval,
		MaxPingsOut:  hubMaxPingsOut,
		MaxPayload:   maxPayload,
	}
	if files.cert != nil {
		opts.TLS = true
		opts.TLSConfig = files.hubTLS()
		opts.TLSVerify = files.pool != nil
		opts.TLSTimeout = tlsTimeout
	}
	if cfg.Cluster.Listen == "" {
		return opts, nil
	}
	chost, cport, err := splitHostPort(cfg.Cluster.Listen)
	if err != nil {
		return nil, err
	}
	opts.Cluster = server.ClusterOpts{Name: cfg.Cluster.Name, Host: chost, Port: cport}
	if opts.Cluster.Name == "" {
		opts.Cluster.Name = defaultClusterName
	}
	if cfg.Token != "" {
		opts.Cluster.Username, opts.Cluster.Password = routeUser, routePassword(cfg.Token)
	}
	if files.cert != nil {
		opts.Cluster.TLSConfig = files.routeTLS()
		opts.Cluster.TLSTimeout = tlsTimeout
	}
	for _, r := range cfg.Cluster.Routes {
		u, err := url.Parse(r)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("exchange: route %q: want nats-route://host:port", r)
		}
		if cfg.Token != "" {
			u.User = url.UserPassword(opts.Cluster.Username, opts.Cluster.Password)
		}
		opts.Routes = append(opts.Routes, u)
	}
	return opts, nil
}

// tlsTimeout bounds a TLS handshake, in seconds.
const tlsTimeout = 2

// maxPayload is the largest message a hub accepts (NATS's default).
const maxPayload = 1 << 20

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("exchange: listen address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("exchange: listen address %q: bad port", addr)
	}
	if port == 0 {
		port = -1 // nats-server's "pick a free port"
	}
	return host, port, nil
}

// Addr returns the address clients connect to.
func (h *hub) Addr() string {
	if a, ok := h.ns.Addr().(*net.TCPAddr); ok {
		return a.String()
	}
	return h.cfg.Listen
}

// participantOptions are the options of the hub's own process joining it.
func (h *hub) participantOptions() []nats.Option {
	o := []nats.Option{nats.InProcessServer(h.ns)}
	if h.cfg.Token != "" {
		o = append(o, nats.Token(h.cfg.Token))
	}
	return o
}

// watchClients calls fn for every client of the global account that
// connects to or disconnects from this hub (not from other hubs of its
// cluster, which report their own). fn runs on a nats.go goroutine.
func (h *hub) watchClients(fn func(clientEvent)) error {
	nc, err := nats.Connect("", nats.InProcessServer(h.ns), nats.UserInfo(h.auth.sysUser, h.auth.sysPass),
		nats.Name("agentd-hub-watch"), nats.NoReconnect())
	if err != nil {
		return fmt.Errorf("exchange: hub: system connection: %w", err)
	}
	h.sys = nc
	self := h.ns.Name()
	acc := h.ns.GlobalAccount().Name
	// both subjects into one channel, read by one goroutine: a client's
	// DISCONNECT and its next CONNECT keep their order (two async
	// subscriptions would each have a goroutine of their own)
	events := make(chan *nats.Msg, 1024)
	connect, disconnect := "$SYS.ACCOUNT."+acc+".CONNECT", "$SYS.ACCOUNT."+acc+".DISCONNECT"
	for _, subj := range []string{connect, disconnect} {
		if _, err := nc.ChanSubscribe(subj, events); err != nil {
			return err
		}
	}
	h.watchDone = make(chan struct{})
	go func() {
		defer close(h.watchDone)
		for {
			var m *nats.Msg
			select {
			case m = <-events:
			case <-h.watchStop:
				return
			}
			connected := m.Subject == connect
			var ev server.DisconnectEventMsg // a superset of ConnectEventMsg
			if json.Unmarshal(m.Data, &ev) != nil || ev.Server.Name != self {
				continue
			}
			if !connected && ev.Reason == authFailure {
				// it never joined: nothing to announce
				h.log.Warn("exchange: a client was refused: its token is missing or wrong", "client", ev.Client.Name, "address", ev.Client.Host)
				continue
			}
			fn(clientEvent{Connected: connected, ID: ev.Client.ID, Name: ev.Client.Name, Host: ev.Client.Host, Reason: ev.Reason})
		}
	}()
	return nc.Flush()
}

// authFailure is the reason of a DISCONNECT event for a client that
// failed to authenticate (and had no CONNECT event).
const authFailure = "Authentication Failure"

// shutdown stops the hub.
func (h *hub) shutdown() {
	if h.sys != nil {
		h.sys.Close()
	}
	if h.watchDone != nil {
		close(h.watchStop)
		<-h.watchDone
	}
	h.ns.Shutdown()
	h.ns.WaitForShutdown()
}

// hubAuth admits the hub's own system user into the system account and
// every other client, if it presents the token (when one is set), into
// the global account.
type hubAuth struct {
	token            string
	sysUser, sysPass string

	mu       sync.Mutex
	sys, app *server.Account // set once the server runs
}

func (a *hubAuth) Check(c server.ClientAuthentication) bool {
	a.mu.Lock()
	sys, app := a.sys, a.app
	a.mu.Unlock()
	if sys == nil || app == nil {
		return false // not ready yet
	}
	o := c.GetOpts()
	if o.Username == a.sysUser {
		if subtle.ConstantTimeCompare([]byte(o.Password), []byte(a.sysPass)) != 1 {
			return false
		}
		c.RegisterUser(&server.User{Username: a.sysUser, Account: sys})
		return true
	}
	if a.token != "" && subtle.ConstantTimeCompare([]byte(o.Token), []byte(a.token)) != 1 {
		return false
	}
	c.RegisterUser(&server.User{Username: "agentd", Account: app})
	return true
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// natsLogger passes what the embedded server logs to the endpoint's
// logger: its errors as warnings, its warnings and notices at debug
// level. A fatal error (a listener that cannot start) also goes to fatal,
// where startHub waits for it: the server does not exit the process.
type natsLogger struct {
	log   *slog.Logger
	fatal chan string
}

func (l *natsLogger) Noticef(format string, v ...any) {
	l.log.Debug("nats: " + fmt.Sprintf(format, v...))
}
func (l *natsLogger) Warnf(format string, v ...any) {
	l.log.Debug("nats: " + fmt.Sprintf(format, v...))
}
func (l *natsLogger) Errorf(format string, v ...any) {
	l.log.Warn("nats: " + fmt.Sprintf(format, v...))
}
func (l *natsLogger) Debugf(string, ...any) {}
func (l *natsLogger) Tracef(string, ...any) {}

func (l *natsLogger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.log.Error("nats: " + msg)
	select {
	case l.fatal <- msg:
	default:
	}
}
