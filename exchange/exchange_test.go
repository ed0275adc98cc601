package exchange

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentd/agentd/runtime"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// node is one runtime with an exchange, as one process would have.
type node struct {
	t   testing.TB
	rt  *runtime.Runtime
	x   *Exchange
	log *lines
}

// lines collects log text and lets a test wait for a line.
type lines struct {
	mu sync.Mutex
	b  strings.Builder
	ch chan struct{}
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Write(p)
	if l.ch != nil {
		close(l.ch)
		l.ch = nil
	}
	return len(p), nil
}

func newNode(t testing.TB, proc string) *node {
	t.Helper()
	l := &lines{}
	var w io.Writer = l
	if testing.Verbose() {
		w = io.MultiWriter(l, os.Stderr)
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rt := runtime.New(runtime.Options{Logger: log, ProcessIdentity: proc})
	n := &node{t: t, rt: rt, x: New(rt, Options{Version: "test"}), log: l}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := rt.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return n
}

func (n *node) hub(cfg EndpointConfig) string {
	n.t.Helper()
	cfg.Role = RoleServer
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if err := n.x.Add(cfg); err != nil {
		n.t.Fatal(err)
	}
	return "nats://" + n.x.HubAddr()
}

func (n *node) client(cfg EndpointConfig) {
	n.t.Helper()
	cfg.Role = RoleClient
	if cfg.Retry == 0 {
		cfg.Retry = 50 * time.Millisecond
	}
	if err := n.x.Add(cfg); err != nil {
		n.t.Fatal(err)
	}
}

// service makes a Go service on its own agent.
func (n *node) service(name string, setup func(s *runtime.Service)) *runtime.Service {
	n.t.Helper()
	a, err := n.rt.NewAgent(name)
	if err != nil {
		n.t.Fatal(err)
	}
	var s *runtime.Service
	if err := a.Do(func() {
		s, err = a.NewService(runtime.ServiceConfig{Name: name, Audience: runtime.AudienceAll})
		if err == nil {
			if setup != nil {
				setup(s)
			}
			err = s.Register()
		}
	}); err != nil {
		n.t.Fatal(err)
	}
	if err != nil {
		n.t.Fatal(err)
	}
	return s
}

// waitFor polls cond until it holds; the deadline only keeps a broken
// build from hanging.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func remote(rt *runtime.Runtime, name string) *runtime.Binding {
	for _, b := range rt.LookupServiceName(name) {
		if b.Location() == runtime.Remote {
			return b
		}
	}
	return nil
}

// The basics between two runtimes through a hub: services appear,
// reports flow in order with the cache replayed, requests are answered.
func TestHubAndClientShareOneServiceSpace(t *testing.T) {
	a := newNode(t, "a:1")
	b := newNode(t, "b:2")
	url := a.hub(EndpointConfig{})
	b.client(EndpointConfig{Connect: []string{url}})

	pub := a.service("pub", func(s *runtime.Service) {
		s.Publish("boot", "cached", runtime.Forever)
		s.ExportMethod("add", runtime.MethodFunc(func(args []any) (any, error) {
			return args[0].(int64) + args[1].(int64), nil
		}))
	})
	waitFor(t, "pub visible in b", func() bool { return remote(b.rt, "pub") != nil })
	rb := remote(b.rt, "pub")
	if rb.ProcessIdentity() != "a:1" || rb.Identity() != pub.Binding().Identity() {
		t.Fatalf("remote binding %s of %s", rb.Identity(), rb.ProcessIdentity())
	}

	var mu sync.Mutex
	var got []string
	var result any
	sub := b.service("sub", func(s *runtime.Service) {
		s.MonitorReports(runtime.Named("pub"), "*", func(r runtime.Report) {
			mu.Lock()
			got = append(got, fmt.Sprint(r.Subject, "=", r.Content))
			mu.Unlock()
		})
	})
	waitFor(t, "the cached report", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 })
	for i := range 1000 {
		pub.Publish("n", int64(i), 0)
	}
	waitFor(t, "1000 reports", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1001 })
	mu.Lock()
	if got[0] != "boot=cached" {
		t.Errorf("first report %q", got[0])
	}
	for i := range 1000 {
		if got[i+1] != fmt.Sprint("n=", i) {
			t.Fatalf("report %d is %q", i, got[i+1])
		}
	}
	mu.Unlock()

	done := make(chan struct{})
	_ = sub.Agent().Post(func() {
		id := sub.SendRequest(runtime.Named("pub"), "add", []any{int64(2), int64(3)})
		sub.ProcessResponse(id, func(res any, _ string) { result = res; close(done) })
		sub.ProcessFailure(id, func(f *runtime.Failure) { result = f; close(done) }, 0)
	})
	<-done
	if result != int64(5) {
		t.Errorf("result %v", result)
	}

	// a's shutdown withdraws pub in b
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = pub.Agent().Do(func() { pub.Destroy() })
	waitFor(t, "pub withdrawn in b", func() bool { return remote(b.rt, "pub") == nil })
	_ = ctx
}

// registryLog records what a node's registry subscriber sees of remote services.
type registryLog struct {
	mu  sync.Mutex
	got []string
}

func (r *registryLog) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

func (n *node) watchRegistry() *registryLog {
	var rl registryLog
	n.service("watch", func(s *runtime.Service) {
		s.SubscribeRegistry(func(ev runtime.RegistryEvent) {
			if ev.Binding.Location() != runtime.Remote {
				return
			}
			st := map[runtime.Status]string{runtime.Available: "AVAILABLE", runtime.Withdrawn: "WITHDRAWN"}[ev.Status]
			rl.mu.Lock()
			rl.got = append(rl.got, ev.Binding.Name()+"/"+ev.Group+" "+st)
			rl.mu.Unlock()
		})
	})
	return &rl
}

// endpoint returns the node's only endpoint (for tests that cut its
// connection as a crash would).
func (n *node) endpoint() *endpoint {
	n.x.mu.Lock()
	defer n.x.mu.Unlock()
	return n.x.eps[0]
}

// A process whose connection dies without a goodbye (as with kill -9) is
// withdrawn everywhere through the hub's notice.
func TestLostClientIsWithdrawnEverywhere(t *testing.T) {
	a := newNode(t, "a:1")
	b := newNode(t, "b:2")
	c := newNode(t, "c:3")
	url := a.hub(EndpointConfig{})
	b.client(EndpointConfig{Connect: []string{url}})
	c.client(EndpointConfig{Connect: []string{url}, Retry: time.Hour})
	c.service("csvc", nil)
	waitFor(t, "csvc in a and b", func() bool { return remote(a.rt, "csvc") != nil && remote(b.rt, "csvc") != nil })
	start := time.Now()
	e := c.endpoint()
	_ = e.agent.Do(func() { e.nc.Close() }) // no bye: the hub sees the connection close
	waitFor(t, "csvc withdrawn in a and b", func() bool { return remote(a.rt, "csvc") == nil && remote(b.rt, "csvc") == nil })
	t.Logf("withdrawn everywhere %v after the connection closed", time.Since(start))
}

// A hub that restarts: its clients withdraw what they saw through it at
// once, reconnect, and see every service again exactly once; what they
// subscribed to by name is subscribed again, cached reports replayed once.
func TestHubRestart(t *testing.T) {
	a := newNode(t, "a:1")
	url := a.hub(EndpointConfig{})
	addr := a.x.HubAddr()
	b := newNode(t, "b:2")
	b.client(EndpointConfig{Connect: []string{url}})
	c := newNode(t, "c:3")
	c.client(EndpointConfig{Connect: []string{url}})
	a.service("asvc", nil)
	c.service("csvc", func(s *runtime.Service) { s.Publish("state", "ready", runtime.Forever) })
	log := b.watchRegistry()
	var mu sync.Mutex
	var reports []string
	b.service("bsub", func(s *runtime.Service) {
		s.MonitorReports(runtime.Named("csvc"), "*", func(r runtime.Report) {
			mu.Lock()
			reports = append(reports, fmt.Sprint(r.Subject, "=", r.Content))
			mu.Unlock()
		})
	})
	waitFor(t, "both services in b", func() bool { return remote(b.rt, "asvc") != nil && remote(b.rt, "csvc") != nil })
	waitFor(t, "the cached report", func() bool { mu.Lock(); defer mu.Unlock(); return len(reports) == 1 })
	log.take()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.rt.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b withdraws everything", func() bool { return remote(b.rt, "asvc") == nil && remote(b.rt, "csvc") == nil })

	a2 := newNode(t, "a:1") // the same process identity, a new run
	a2.hub(EndpointConfig{Listen: addr})
	a2.service("asvc", nil)
	waitFor(t, "both services in b again", func() bool { return remote(b.rt, "asvc") != nil && remote(b.rt, "csvc") != nil })
	waitFor(t, "the cached report again", func() bool { mu.Lock(); defer mu.Unlock(); return len(reports) == 2 })
	time.Sleep(200 * time.Millisecond) // nothing more may come: a duplicate would show here
	got := strings.Join(sortStrings(log.take()), ";")
	want := "asvc/ AVAILABLE;asvc/ WITHDRAWN;csvc/ AVAILABLE;csvc/ WITHDRAWN"
	if got != want {
		t.Errorf("b's registry saw\n%s\nwant\n%s", got, want)
	}
	mu.Lock()
	if len(reports) != 2 {
		t.Errorf("reports %v", reports)
	}
	mu.Unlock()
}

func sortStrings(s []string) []string {
	out := append([]string{}, s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// plainNATS starts a nats-server that is no agentd hub.
func plainNATS(t *testing.T) string {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(ns.Shutdown)
	return ns.ClientURL()
}

// Two clients of a plain NATS server (no agentd hub) share a service
// space; a client that goes silent is withdrawn by the heartbeat timeout.
func TestPlainNATS(t *testing.T) {
	url := plainNATS(t)
	b := newNode(t, "b:2")
	c := newNode(t, "c:3")
	b.client(EndpointConfig{Connect: []string{url}})
	c.client(EndpointConfig{Connect: []string{url}, Retry: time.Hour})
	c.service("csvc", func(s *runtime.Service) {
		s.ExportMethod("hi", runtime.MethodFunc(func([]any) (any, error) { return "hello", nil }))
	})
	waitFor(t, "csvc in b", func() bool { return remote(b.rt, "csvc") != nil })
	res, err := request(b, runtime.Named("csvc"), "hi")
	if err != nil || res != "hello" {
		t.Fatalf("request: %v %v", res, err)
	}
	// silence c without a goodbye: only the heartbeat timeout can tell
	e := c.endpoint()
	start := time.Now()
	_ = e.agent.Do(func() { e.closing = true; e.nc.Close() })
	waitFor(t, "csvc withdrawn in b", func() bool { return remote(b.rt, "csvc") == nil })
	if took := time.Since(start); took < HeartbeatTimeout-time.Second {
		t.Errorf("withdrawn after %v: before the heartbeat timeout?", took)
	}
}

// request sends a request from a temporary service of n and waits for its
// answer: the result, or the failure as the error.
func request(n *node, target runtime.Target, method string, args ...any) (any, error) {
	v := askUntimed(n, target, method, time.Minute, args...)
	if f, ok := v.(*runtime.Failure); ok {
		return nil, f
	}
	return v, nil
}

// Garbage, foreign, stale and oversized-nesting messages on agentd's
// subjects are dropped and counted; nothing breaks. A peer of another
// major version is refused, logged once, and told so.
func TestBadMessagesAreDroppedAndCounted(t *testing.T) {
	a := newNode(t, "a:1")
	url := a.hub(EndpointConfig{})
	a.service("asvc", func(s *runtime.Service) {
		s.ExportMethod("hi", runtime.MethodFunc(func([]any) (any, error) { return "hello", nil }))
	})
	raw, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	refusals, _ := raw.SubscribeSync(helloSubject("_"))
	inc := a.x.inc
	deep := []byte{}
	for range 100000 {
		deep = append(deep, 0x91) // fixarray of 1, nested 100,000 deep
	}
	deep = append(deep, 0xc0)
	enc := func(m *message) []byte {
		b, err := m.encode(nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	junk := [][]byte{
		nil, []byte("hello"), {0xc1}, deep, {0x81, 0xa1, 'k', 0x92}, // truncated
		enc(&message{Kind: "what", Inc: "x1", Seq: 1}),
		enc(&message{Kind: kReport, Inc: "x2", Seq: 1, To: "not-us", Pub: "1@a:1"}),
		append(enc(&message{Kind: kHeartbeat, Inc: "x3", Seq: 1, Proc: "x:3"}), 0xc0), // trailing byte
	}
	for _, subj := range []string{allSubject("_"), toSubject("_", inc), helloSubject("_")} {
		for _, j := range junk {
			_ = raw.Publish(subj, j)
		}
	}
	for range 3 { // three hellos of major 2: logged and answered once
		_ = raw.Publish(helloSubject("_"), enc(&message{Kind: kHello, Inc: "future", Major: 2, Proc: "f:9"}))
	}
	_ = raw.Flush()
	waitFor(t, "the junk counted", func() bool {
		s := a.x.Stats()
		return s.Malformed >= uint64(2*5) && s.Refused >= 3
	})
	msg, err := refusals.NextMsg(10 * time.Second)
	for err == nil {
		if m, derr := decode(msg.Data); derr == nil && m.Kind == kRefuse && m.To == "future" {
			break
		}
		msg, err = refusals.NextMsg(10 * time.Second)
	}
	if err != nil {
		t.Fatalf("no refusal sent to the other major version: %v", err)
	}
	if n := strings.Count(a.log.String(), "refusing a peer of another protocol version"); n != 1 {
		t.Errorf("refusal logged %d times", n)
	}
	// the hub still works
	b := newNode(t, "b:2")
	b.client(EndpointConfig{Connect: []string{url}})
	waitFor(t, "asvc in b", func() bool { return remote(b.rt, "asvc") != nil })
	if res, err := request(b, runtime.Named("asvc"), "hi"); err != nil || res != "hello" {
		t.Fatalf("request after the junk: %v %v", res, err)
	}
}

// A sequence gap from a peer starts a resync: the receiver asks the peer
// to start over and does the same itself.
func TestSequenceGapStartsAResync(t *testing.T) {
	a := newNode(t, "a:1")
	url := a.hub(EndpointConfig{})
	raw, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	mine, _ := raw.SubscribeSync(toSubject("_", "fake"))
	send := func(subj string, m *message) {
		m.Inc, m.Sess = "fake", 1
		b, err := m.encode(nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = raw.Publish(subj, b)
	}
	send(helloSubject("_"), &message{Kind: kHello, Major: ProtocolMajor, Proc: "fake:1"})
	send(allSubject("_"), &message{Kind: kSnapshot, Seq: 1, Proc: "fake:1", Svcs: []svcInfo{{ID: "1@fake:1", Name: "fsvc", Audience: "*"}}})
	waitFor(t, "fsvc in a", func() bool { return remote(a.rt, "fsvc") != nil })
	send(allSubject("_"), &message{Kind: kHeartbeat, Seq: 5, Proc: "fake:1"}) // 2, 3 and 4 lost
	_ = raw.Flush()
	for {
		msg, err := mine.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatalf("no sync asked: %v", err)
		}
		if m, err := decode(msg.Data); err == nil && m.Kind == kSync {
			break
		}
	}
	if a.x.Stats().Gaps != 1 {
		t.Errorf("gaps %d", a.x.Stats().Gaps)
	}
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Groups: a service travels on an endpoint only if its audience is "*" or
// the endpoint's group; audience "" never leaves its process. A process
// with endpoints in two groups is in both service spaces.
func TestGroupsAndAudiences(t *testing.T) {
	a := newNode(t, "a:1")
	url := a.hub(EndpointConfig{})
	b := newNode(t, "b:2")
	b.client(EndpointConfig{Connect: []string{url}, Group: "ops"})
	b.client(EndpointConfig{Connect: []string{url}})
	for _, aud := range []string{"*", "ops", "other", ""} {
		name := "aud-" + aud
		if aud == "" {
			name = "aud-none"
		}
		bb, _ := b.rt.NewAgent(name)
		_ = bb.Do(func() {
			s, _ := bb.NewService(runtime.ServiceConfig{Name: name, Audience: aud})
			_ = s.Register()
		})
	}
	c := newNode(t, "c:3") // default group only
	c.client(EndpointConfig{Connect: []string{url}})
	d := newNode(t, "d:4") // group ops only
	d.client(EndpointConfig{Connect: []string{url}, Group: "ops"})
	waitFor(t, "aud-* in c and d, aud-ops in d", func() bool {
		return remote(c.rt, "aud-*") != nil && remote(d.rt, "aud-*") != nil && remote(d.rt, "aud-ops") != nil
	})
	// a hello round trip later nothing else has arrived
	c.service("late", nil)
	waitFor(t, "late in d? no: in b", func() bool { return remote(b.rt, "late") != nil })
	for _, n := range []*node{c, d} {
		for _, name := range []string{"aud-other", "aud-none"} {
			if remote(n.rt, name) != nil {
				t.Errorf("%s sees %s", n.rt.ProcessIdentity(), name)
			}
		}
	}
	if remote(c.rt, "aud-ops") != nil {
		t.Error("the default group sees a service of audience ops")
	}
	if remote(d.rt, "late") != nil {
		t.Error("group ops sees a service of the default group")
	}
}

// Two endpoints of one process may not share a group of one deployment:
// they would speak with one incarnation in one space.
func TestTwoEndpointsInOneSpaceAreRefused(t *testing.T) {
	a := newNode(t, "a:1")
	url := a.hub(EndpointConfig{})
	b := newNode(t, "b:2")
	b.client(EndpointConfig{Connect: []string{url}})
	err := b.x.Add(EndpointConfig{Role: RoleClient, Connect: []string{"nats://127.0.0.1:1", url}, Retry: time.Second})
	if err == nil || !strings.Contains(err.Error(), "two endpoints of one process") {
		t.Errorf("second endpoint in the same space: %v", err)
	}
	if err := b.x.Add(EndpointConfig{Role: RoleClient, Connect: []string{url}, Group: "other", Retry: time.Second}); err != nil {
		t.Errorf("another group: %v", err)
	}
}
