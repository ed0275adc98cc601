package exchange

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentd/agentd/runtime"
	"github.com/nats-io/nats.go"
)

// waitLog waits for a log line containing s.
func (n *node) waitLog(s string) {
	n.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(n.logText(), s) {
		if time.Now().After(deadline) {
			n.t.Fatalf("timed out waiting for the log line %q; the log:\n%s", s, n.logText())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (n *node) logText() string {
	n.log.mu.Lock()
	defer n.log.mu.Unlock()
	return n.log.b.String()
}

// clientErr adds a client endpoint and returns Add's error.
func (n *node) clientErr(cfg EndpointConfig) error {
	cfg.Role = RoleClient
	return n.x.Add(cfg)
}

// Token auth: a client without the token or with another one is refused
// and says why in its log; the hub logs the refusal too; with the token,
// the two share one service space.
func TestTokenRefusedAndAccepted(t *testing.T) {
	hub := newNode(t, "hub:1")
	url := hub.hub(EndpointConfig{Token: "s3cret"})
	hub.service("svc", nil)

	for name, token := range map[string]string{"none": "", "wrong": "guess"} {
		c := newNode(t, "c-"+name+":2")
		c.client(EndpointConfig{Connect: []string{url}, Token: token, Retry: 20 * time.Millisecond})
		c.waitLog("the hub refused this process: its token is missing or wrong")
		// it keeps trying (the hub refuses it again), and sees nothing
		waitFor(t, "a second refusal", func() bool {
			return strings.Count(hub.logText(), "a client was refused: its token is missing or wrong\" endpoint=\"server 127.0.0.1:0\" client=agentd/"+
				c.x.Incarnation()) >= 2
		})
		if c.x.Stats().Connects != 0 || remote(c.rt, "svc") != nil {
			t.Errorf("%s: a refused client connected: %+v", name, c.x.Stats())
		}
	}

	ok := newNode(t, "c-ok:3")
	ok.client(EndpointConfig{Connect: []string{url}, Token: "s3cret"})
	waitFor(t, "svc visible with the token", func() bool { return remote(ok.rt, "svc") != nil })
}

// retry = 0: one attempt, its failure is logged and announced, no other.
func TestRetryZeroIsOneAttempt(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now

	c := newNode(t, "c:1")
	var mu sync.Mutex
	var events []runtime.ConnectionEvent
	c.service("watcher", func(s *runtime.Service) {
		s.SetHooks(runtime.Hooks{Connection: func(ev runtime.ConnectionEvent) {
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
		}})
	})
	if err := c.clientErr(EndpointConfig{Connect: []string{"nats://" + addr}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the failure announced", func() bool { mu.Lock(); defer mu.Unlock(); return len(events) == 1 })
	mu.Lock()
	if ev := events[0]; !ev.Failed || ev.State != runtime.ConnectionInactive || ev.RemoteAddress != addr {
		t.Errorf("event %+v", ev)
	}
	mu.Unlock()
	if s := c.x.Stats(); s.ConnectFailures != 1 || s.Connects != 0 {
		t.Errorf("stats %+v", s)
	}
	// a hub now up is not tried again: removing the endpoint ends it
	if !c.x.Remove(EndpointConfig{Role: RoleClient, Connect: []string{"nats://" + addr}}) {
		t.Error("Remove: no such endpoint")
	}
	if s := c.x.Stats(); s.ConnectFailures != 1 {
		t.Errorf("stats after removal %+v", s)
	}
}

// pki is a certificate authority with certificates it signed, in files.
type pki struct {
	dir              string
	ca               string // CA certificate
	hubCert, hubKey  string // for 127.0.0.1
	cliCert, cliKey  string // a client's
	otherCA          string // another authority, which signed nothing here
	otherCert, other string // a certificate (and key) of the other authority
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	p := &pki{dir: dir}
	caKey, caCert, caDER := newCA(t, "agentd test CA")
	p.ca = writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER)
	p.hubCert, p.hubKey = newLeaf(t, dir, "hub", caCert, caKey, true)
	p.cliCert, p.cliKey = newLeaf(t, dir, "client", caCert, caKey, false)
	oKey, oCert, oDER := newCA(t, "another CA")
	p.otherCA = writePEM(t, dir, "other-ca.pem", "CERTIFICATE", oDER)
	p.otherCert, p.other = newLeaf(t, dir, "other", oCert, oKey, true)
	return p
}

func newCA(t *testing.T, name string) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert, der
}

// newLeaf makes a certificate for 127.0.0.1 usable by servers and
// clients (routes are both), signed by ca.
func newLeaf(t *testing.T, dir, name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, server bool) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		tmpl.DNSNames = []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, dir, name+".pem", "CERTIFICATE", der), writePEM(t, dir, name+".key", "EC PRIVATE KEY", kder)
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TLS: a hub with a certificate and a CA takes only clients that trust
// its CA and present a certificate the CA signed.
func TestTLS(t *testing.T) {
	p := newPKI(t)
	hub := newNode(t, "hub:1")
	hub.hub(EndpointConfig{TLS: TLSConfig{Cert: p.hubCert, Key: p.hubKey, CA: p.ca}})
	hub.service("svc", nil)
	url := "tls://" + hub.x.HubAddr()

	for _, c := range []struct {
		name string
		tls  TLSConfig
		hint string
	}{
		{"no CA", TLSConfig{Cert: p.cliCert, Key: p.cliKey}, "the hub's certificate is not signed by a known authority"},
		{"another CA", TLSConfig{Cert: p.cliCert, Key: p.cliKey, CA: p.otherCA}, "the hub's certificate is not signed by a known authority"},
		{"no client certificate", TLSConfig{CA: p.ca}, "refused this process's certificate"},
		{"a client certificate of another CA", TLSConfig{Cert: p.otherCert, Key: p.other, CA: p.ca}, "refused this process's certificate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := newNode(t, "c:2")
			n.client(EndpointConfig{Connect: []string{url}, TLS: c.tls, Retry: 20 * time.Millisecond})
			n.waitLog(c.hint)
			if n.x.Stats().Connects != 0 || remote(n.rt, "svc") != nil {
				t.Errorf("connected: %+v", n.x.Stats())
			}
		})
	}
	// a plain nats:// URL with the CA still speaks TLS
	for i, u := range []string{url, "nats://" + hub.x.HubAddr()} {
		n := newNode(t, "ok:"+string(rune('3'+i)))
		n.client(EndpointConfig{Connect: []string{u}, TLS: TLSConfig{Cert: p.cliCert, Key: p.cliKey, CA: p.ca}})
		waitFor(t, "svc visible over TLS", func() bool { return remote(n.rt, "svc") != nil })
	}
}

// A hub with a certificate and no CA takes TLS clients without
// certificates; a plain client is told the hub wants TLS.
func TestTLSWithoutClientCertificates(t *testing.T) {
	p := newPKI(t)
	hub := newNode(t, "hub:1")
	hub.hub(EndpointConfig{TLS: TLSConfig{Cert: p.hubCert, Key: p.hubKey}})
	hub.service("svc", nil)

	plain := newNode(t, "plain:2")
	plain.client(EndpointConfig{Connect: []string{"nats://" + hub.x.HubAddr()}, Retry: 20 * time.Millisecond})
	plain.waitLog("exchange connection attempt failed")
	if plain.x.Stats().Connects != 0 {
		t.Error("a plain client connected to a TLS hub")
	}
	n := newNode(t, "c:3")
	n.client(EndpointConfig{Connect: []string{"tls://" + hub.x.HubAddr()}, TLS: TLSConfig{CA: p.ca}})
	waitFor(t, "svc visible over TLS", func() bool { return remote(n.rt, "svc") != nil })
}

// Two clustered hubs, a client on each: one service space, both ways,
// with a report and a request across the route. A hub with another
// token cannot join the cluster.
func TestClusteredHubs(t *testing.T) {
	testCluster(t, "token", func(EndpointConfig) EndpointConfig { return EndpointConfig{Token: "s3cret"} })
}

// The same over TLS routes, authenticated by the CA alone.
func TestClusteredHubsTLS(t *testing.T) {
	p := newPKI(t)
	testCluster(t, "tls", func(EndpointConfig) EndpointConfig {
		return EndpointConfig{TLS: TLSConfig{Cert: p.hubCert, Key: p.hubKey, CA: p.ca}}
	})
}

func testCluster(t *testing.T, kind string, secure func(EndpointConfig) EndpointConfig) {
	h1, h2 := newNode(t, "h1:1"), newNode(t, "h2:2")
	cfg1 := secure(EndpointConfig{})
	cfg1.Cluster = ClusterConfig{Name: "test", Listen: "127.0.0.1:0"}
	url1 := h1.hub(cfg1)
	routes := []string{"nats-route://" + h1.clusterAddr()}
	cfg2 := secure(EndpointConfig{})
	cfg2.Cluster = ClusterConfig{Name: "test", Listen: "127.0.0.1:0", Routes: routes}
	url2 := h2.hub(cfg2)
	waitFor(t, "the route", func() bool { return h1.numRoutes() > 0 && h2.numRoutes() > 0 })

	ev1, ev2 := h1.connEvents(), h2.connEvents()
	clientCfg := func(url string) EndpointConfig {
		c := secure(EndpointConfig{}) // a hub's certificate serves as a client's too
		c.Connect = []string{url}
		return c
	}
	a, b := newNode(t, "a:3"), newNode(t, "b:4")
	a.client(clientCfg(url1))
	b.client(clientCfg(url2))

	pub := a.service("pub", func(s *runtime.Service) {
		s.ExportMethod("twice", runtime.MethodFunc(func(args []any) (any, error) { return args[0].(int64) * 2, nil }))
	})
	b.service("other", nil)
	waitFor(t, "pub visible through the cluster", func() bool { return remote(b.rt, "pub") != nil })
	waitFor(t, "other visible through the cluster", func() bool { return remote(a.rt, "other") != nil })
	for _, n := range []*node{h1, h2} {
		waitFor(t, "both visible on the hubs", func() bool { return remote(n.rt, "pub") != nil && remote(n.rt, "other") != nil })
	}

	var mu sync.Mutex
	var got []any
	sub := b.service("sub", func(s *runtime.Service) {
		s.MonitorReports(runtime.Named("pub"), "*", func(r runtime.Report) {
			mu.Lock()
			got = append(got, r.Content)
			mu.Unlock()
		})
	})
	// the subscription is active after a round trip: publish until one arrives
	waitFor(t, "a report across the cluster", func() bool {
		pub.Publish("x", "hello", 0)
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0
	})
	done := make(chan any, 1)
	_ = sub.Agent().Post(func() {
		id := sub.SendRequest(runtime.Named("pub"), "twice", []any{int64(21)})
		sub.ProcessResponse(id, func(res any, _ string) { done <- res })
		sub.ProcessFailure(id, func(f *runtime.Failure) { done <- f }, 0)
	})
	if res := <-done; res != int64(42) {
		t.Errorf("request across the cluster: %v", res)
	}

	// each hub announces the clients it owns, and only those: by now h1
	// has heard of b's connection through the cluster, and ignored it
	if ev := ev1.find("a:3"); ev == nil || ev.State != runtime.ConnectionActive || ev.Role != RoleServer {
		t.Errorf("h1's event for a: %+v", ev)
	}
	if ev := ev2.find("b:4"); ev == nil || ev.State != runtime.ConnectionActive {
		t.Errorf("h2's event for b: %+v", ev)
	}
	if ev1.find("b:4") != nil || ev2.find("a:3") != nil {
		t.Error("a hub announced a client of the other hub")
	}

	// a hub with other credentials is refused by the cluster
	h3 := newNode(t, "h3:5")
	cfg3 := EndpointConfig{Token: "other"}
	if kind == "tls" {
		q := newPKI(t)
		cfg3 = EndpointConfig{TLS: TLSConfig{Cert: q.hubCert, Key: q.hubKey, CA: q.ca}}
	}
	cfg3.Cluster = ClusterConfig{Name: "test", Listen: "127.0.0.1:0", Routes: routes}
	before := h1.numRoutes()
	h3.hub(cfg3)
	if kind == "tls" {
		h1.waitLog("TLS route handshake error")
	} else {
		h1.waitLog("authentication error")
	}
	// (h3 counts its own attempt as a route until it hears the refusal)
	if h1.numRoutes() != before {
		t.Errorf("routes: h1 %d, was %d", h1.numRoutes(), before)
	}
}

// connEvents records the connection events of a node.
type connEvents struct {
	mu  sync.Mutex
	evs []runtime.ConnectionEvent
}

func (n *node) connEvents() *connEvents {
	c := &connEvents{}
	n.service("conn-watch", func(s *runtime.Service) {
		s.SetHooks(runtime.Hooks{Connection: func(ev runtime.ConnectionEvent) {
			c.mu.Lock()
			c.evs = append(c.evs, ev)
			c.mu.Unlock()
		}})
	})
	return c
}

func (c *connEvents) find(proc string) *runtime.ConnectionEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.evs {
		if c.evs[i].RemoteProcess == proc {
			ev := c.evs[i]
			return &ev
		}
	}
	return nil
}

func (n *node) firstHub() *hub {
	n.x.mu.Lock()
	defer n.x.mu.Unlock()
	for _, e := range n.x.eps {
		if e.hub != nil {
			return e.hub
		}
	}
	n.t.Fatal("no hub")
	return nil
}

func (n *node) clusterAddr() string { return n.firstHub().ns.ClusterAddr().String() }
func (n *node) numRoutes() int      { return n.firstHub().ns.NumRoutes() }

// A hub reachable from other machines needs a token or client
// certificates, or insecure.
func TestInsecureHubRefused(t *testing.T) {
	n := newNode(t, "n:1")
	for _, cfg := range []EndpointConfig{
		{Role: RoleServer, Listen: "0.0.0.0:0"},
		{Role: RoleServer, Listen: ":0"},
		{Role: RoleServer, Listen: "127.0.0.1:0", Cluster: ClusterConfig{Listen: "0.0.0.0:0"}},
		{Role: RoleServer, Listen: "0.0.0.0:0", TLS: TLSConfig{Cert: "c", Key: "k"}},
	} {
		if err := n.x.Add(cfg); !errors.Is(err, ErrInsecure) {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
	if len(n.x.Endpoints()) != 0 {
		t.Fatal("a refused endpoint was added")
	}
	for _, cfg := range []EndpointConfig{
		{Role: RoleServer, Listen: "0.0.0.0:0", Token: "t"},
		{Role: RoleServer, Listen: "0.0.0.0:0", Insecure: true},
	} {
		if err := n.x.Add(cfg); err != nil {
			t.Errorf("%+v: %v", cfg, err)
		}
		n.x.Remove(cfg)
	}
}

// A hub that cannot listen is an error at once, naming the cause.
func TestHubAddressInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	n := newNode(t, "n:1")
	start := time.Now()
	err = n.x.Add(EndpointConfig{Role: RoleServer, Listen: l.Addr().String()})
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("Add: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the refusal took %v", took)
	}
	if len(n.x.Endpoints()) != 0 {
		t.Error("the endpoint was added")
	}
}

// CheckTLS names each file that cannot be used.
func TestCheckTLS(t *testing.T) {
	p := newPKI(t)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not PEM\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	if err := CheckTLS(TLSConfig{Cert: p.hubCert, Key: p.hubKey, CA: p.ca}); err != nil {
		t.Errorf("good files: %v", err)
	}
	for _, c := range []struct {
		tls  TLSConfig
		want []string // field: message, of each error
	}{
		{TLSConfig{CA: missing}, []string{"ca: cannot read: no such file or directory"}},
		{TLSConfig{CA: garbage}, []string{"ca: no PEM certificate in the file"}},
		{TLSConfig{CA: dir}, []string{"ca: cannot read: not a regular file (a folder)"}},
		{TLSConfig{Cert: garbage, Key: p.hubKey}, []string{"cert: no PEM certificate in the file"}},
		{TLSConfig{Cert: p.hubCert, Key: p.cliKey}, []string{"key: not the private key of " + p.hubCert + ": private key does not match public key"}},
		{TLSConfig{Cert: p.hubCert, Key: garbage, CA: missing}, []string{
			"key: not the private key of " + p.hubCert + ": failed to find any PEM data in key input",
			"ca: cannot read: no such file or directory"}},
		{TLSConfig{Cert: missing, Key: missing}, []string{"cert: cannot read: no such file or directory", "key: cannot read: no such file or directory"}},
	} {
		err := CheckTLS(c.tls)
		var got []string
		for _, e := range unjoin(err) {
			var fe *TLSFileError
			if !errors.As(e, &fe) {
				t.Fatalf("%+v: %T %v", c.tls, e, e)
			}
			got = append(got, fe.Field+": "+fe.Err.Error())
		}
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%+v:\n got %q\nwant %q", c.tls, got, c.want)
		}
	}
	// Add refuses the endpoint with the same error
	n := newNode(t, "n:1")
	err := n.x.Add(EndpointConfig{Role: RoleClient, Connect: []string{"nats://127.0.0.1:1"}, TLS: TLSConfig{CA: garbage}})
	var fe *TLSFileError
	if !errors.As(err, &fe) || fe.Field != "ca" {
		t.Errorf("Add with a bad CA: %v", err)
	}
}

func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// A process first heard of through a heartbeat (its hello was lost, or
// sent before a cluster's routes carried our subscriptions) is asked for
// everything; a sync from a process not heard of yet is answered with a
// snapshot, and with a sync of our own.
func TestMissedHelloIsRecovered(t *testing.T) {
	a := newNode(t, "a:1")
	url := a.hub(EndpointConfig{})
	a.service("asvc", nil)
	raw, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	send := func(inc, subj string, m *message) {
		m.Inc, m.Sess = inc, 1
		b, err := m.encode(nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = raw.Publish(subj, b)
	}
	// next returns the kinds of the messages to inc until want arrived
	next := func(sub *nats.Subscription, want ...string) {
		t.Helper()
		got := map[string]*message{}
		for len(got) < len(want) {
			msg, err := sub.NextMsg(10 * time.Second)
			if err != nil {
				t.Fatalf("waiting for %v, got %v: %v", want, got, err)
			}
			if m, err := decode(msg.Data); err == nil && slices.Contains(want, m.Kind) {
				got[m.Kind] = m
			}
		}
		if s := got[kSnapshot]; s != nil && (len(s.Svcs) != 1 || s.Svcs[0].Name != "asvc") {
			t.Errorf("snapshot %+v", s.Svcs)
		}
	}

	hb, _ := raw.SubscribeSync(toSubject("_", "hb-first"))
	_ = raw.Flush()
	send("hb-first", allSubject("_"), &message{Kind: kHeartbeat, Seq: 3, Proc: "h:1"})
	next(hb, kSync)
	// it answers the sync with its snapshot: its service appears
	send("hb-first", toSubject("_", a.x.Incarnation()), &message{Kind: kSnapshot, Seq: 1, To: a.x.Incarnation(), Proc: "h:1",
		Svcs: []svcInfo{{ID: "1@h:1", Name: "hsvc", Audience: "*"}}})
	waitFor(t, "hsvc in a", func() bool { return remote(a.rt, "hsvc") != nil })

	sy, _ := raw.SubscribeSync(toSubject("_", "sync-first"))
	_ = raw.Flush()
	send("sync-first", toSubject("_", a.x.Incarnation()), &message{Kind: kSync, Seq: 1, To: a.x.Incarnation(), Details: "unknown sender"})
	next(sy, kSync, kSnapshot, kSubs)
}

// A newcomer that hears an existing process's broadcast before that
// process has answered its hello asks for everything with a sync that
// keeps: the existing process answers with its snapshot and
// subscriptions, and a request it already sent to the newcomer goes on
// (found by agentd bench: the first call of a client that joined just
// before its callee failed with 57). A sync that does not keep still
// fails the requests sent to its sender.
func TestSyncOfANewcomerKeepsRequests(t *testing.T) {
	a := newNode(t, "a:1")
	url := a.hub(EndpointConfig{})
	raw, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	const inc = "newcomer"
	to, _ := raw.SubscribeSync(toSubject("_", inc))
	_ = raw.Flush()
	seqTo := uint64(0)
	send := func(subj string, m *message) {
		m.Inc, m.Sess = inc, 1
		if m.To != "" {
			seqTo++
			m.Seq = seqTo
		}
		b, err := m.encode(nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = raw.Publish(subj, b)
	}
	next := func(kind string) *message {
		t.Helper()
		for {
			msg, err := to.NextMsg(10 * time.Second)
			if err != nil {
				t.Fatalf("waiting for %s: %v", kind, err)
			}
			if m, err := decode(msg.Data); err == nil && m.Kind == kind {
				return m
			}
		}
	}
	send(helloSubject("_"), &message{Kind: kHello, Major: ProtocolMajor, Minor: ProtocolMinor, Proc: "n:1"})
	send(allSubject("_"), &message{Kind: kSnapshot, Seq: 1, Proc: "n:1", Svcs: []svcInfo{{ID: "1@n:1", Name: "nsvc", Audience: "*"}}})
	waitFor(t, "nsvc in a", func() bool { return remote(a.rt, "nsvc") != nil })

	for _, keep := range []bool{true, false} {
		type answer struct {
			v   any
			err error
		}
		done := make(chan answer, 1)
		go func() {
			v, err := request(a, runtime.Named("nsvc"), "m")
			done <- answer{v, err}
		}()
		req := next(kRequest)
		send(toSubject("_", a.x.Incarnation()), &message{Kind: kSync, To: a.x.Incarnation(), Details: "unknown sender", Keep: keep})
		next(kSnapshot)
		next(kSubs)
		send(toSubject("_", a.x.Incarnation()), &message{Kind: kResponse, To: a.x.Incarnation(), ID: req.ID, Content: "answered"})
		got := <-done
		if keep && (got.err != nil || got.v != "answered") {
			t.Errorf("keep: the request ended with %v, %v; want its answer", got.v, got.err)
		}
		var f *runtime.Failure
		if !keep && (!errors.As(got.err, &f) || f.Code != runtime.ServerApplicationError || !strings.Contains(f.Details, "it lost messages (unknown sender)")) {
			t.Errorf("no keep: the request ended with %v, %v; want 57, it lost messages", got.v, got.err)
		}
	}
}
