// Regression tests for bugs found by a review of this package: each
// comment describes the bug as it was (the test fails on that code).
package exchange

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentd/agentd/runtime"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// askUntimed sends an untimed request from a fresh service of n and
// returns the answer, or nil after wait.
func askUntimed(n *node, target runtime.Target, method string, wait time.Duration, args ...any) any {
	ch := make(chan any, 1)
	s := n.service("ask-"+n.rt.UniqueID(), nil)
	_ = s.Agent().Post(func() {
		id := s.SendRequest(target, method, args)
		s.ProcessResponse(id, func(res any, _ string) { ch <- res })
		s.ProcessFailure(id, func(f *runtime.Failure) { ch <- f }, 0)
	})
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		return nil
	}
}

// a Go method whose result cannot be encoded, or is over the
// payload limit, is never answered across the exchange: the callee's
// endpoint drops the res (EncodeErrors / Oversized) and sends nothing
// else, so an untimed request to a live peer waits forever.
func TestRegressUnsendableResultHangsCaller(t *testing.T) {
	a := newNode(t, "a:1")
	b := newNode(t, "b:2")
	url := a.hub(EndpointConfig{})
	b.client(EndpointConfig{Connect: []string{url}})
	a.service("svc", func(s *runtime.Service) {
		s.ExportMethod("odd", runtime.MethodFunc(func([]any) (any, error) { return []int{1}, nil }))
		s.ExportMethod("big", runtime.MethodFunc(func([]any) (any, error) { return strings.Repeat("x", 2<<20), nil }))
	})
	waitFor(t, "svc in b", func() bool { return remote(b.rt, "svc") != nil })
	for _, m := range []string{"odd", "big"} {
		if v := askUntimed(b, runtime.Named("svc"), m, 3*time.Second); v == nil {
			t.Errorf("%s: no answer after 3s (a: %+v)", m, a.x.Stats())
		} else {
			t.Logf("%s: %v", m, v)
		}
	}
}

// on a NATS server with a smaller max_payload than agentd's fixed
// MaxContentSize, a request whose req is over the connection's limit is
// dropped by publish (Oversized) after forward() recorded it: it waits
// forever.
func TestRegressOversizedRequestHangsOnSmallMaxPayload(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true, MaxPayload: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(ns.Shutdown)
	b := newNode(t, "b:2")
	c := newNode(t, "c:3")
	b.client(EndpointConfig{Connect: []string{ns.ClientURL()}})
	c.client(EndpointConfig{Connect: []string{ns.ClientURL()}})
	c.service("echo", func(s *runtime.Service) {
		s.ExportMethod("len", runtime.MethodFunc(func(a []any) (any, error) { return int64(len(a[0].(string))), nil }))
	})
	waitFor(t, "echo in b", func() bool { return remote(b.rt, "echo") != nil })
	if v := askUntimed(b, runtime.Named("echo"), "len", 3*time.Second, strings.Repeat("x", 100<<10)); v == nil {
		t.Errorf("no answer after 3s (b: %+v)", b.x.Stats())
	} else {
		t.Logf("answer %v", v)
	}
}

// fake is a raw NATS connection posing as an agentd process.
type fake struct {
	t         *testing.T
	nc        *nats.Conn
	inc, proc string
	all, to   uint64
}

func (f *fake) send(subj string, m *message) {
	m.Inc, m.Sess = f.inc, 1
	b, err := m.encode(nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.nc.Publish(subj, b); err != nil {
		f.t.Fatal(err)
	}
	_ = f.nc.Flush()
}

func (f *fake) hello() {
	f.send(helloSubject("_"), &message{Kind: kHello, Major: ProtocolMajor, Proc: f.proc})
}
func (f *fake) bcast(m *message) { f.all++; m.Seq = f.all; f.send(allSubject("_"), m) }
func (f *fake) direct(to string, m *message) {
	f.to++
	m.Seq, m.To = f.to, to
	f.send(toSubject("_", to), m)
}

func newFake(t *testing.T, url, inc, proc string) *fake {
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return &fake{t: t, nc: nc, inc: inc, proc: proc}
}

// a process restarts with the same process identity (pid 1 in a
// container) and so the same service identities. A late rep of the old
// run (its incarnation is gone) is still delivered by the reader, through
// the new run's stand-in, because report() looks the publisher up by
// identity only. spec §2: "late messages of the old run are ignored, even
// with the same pid".
func TestRegressLateReportOfOldRunDelivered(t *testing.T) {
	a := newNode(t, "a:1")
	url := a.hub(EndpointConfig{})
	got := make(chan string, 10)
	sub := a.service("sub", func(s *runtime.Service) {
		s.MonitorReports(runtime.Named("fsvc"), "*", func(r runtime.Report) { got <- r.Subject })
	})
	svc := []svcInfo{{ID: "1@f:1", Name: "fsvc", Audience: "*"}}
	old := newFake(t, url, "0ld0ld0ld0ld0ld0", "f:1")
	old.hello()
	old.bcast(&message{Kind: kSnapshot, Proc: "f:1", Svcs: svc})
	waitFor(t, "fsvc of the old run in a", func() bool { return remote(a.rt, "fsvc") != nil })
	first := remote(a.rt, "fsvc")

	nw := newFake(t, url, "new0new0new0new0", "f:1")
	nw.hello()
	nw.bcast(&message{Kind: kSnapshot, Proc: "f:1", Svcs: svc})
	waitFor(t, "fsvc of the new run in a", func() bool { b := remote(a.rt, "fsvc"); return b != nil && b != first })
	e := a.endpoint()
	var peers []string
	_ = e.agent.Do(func() { peers = sortedKeys(e.peers) })
	t.Logf("peers now %v", peers)

	// a report of the old run, late
	old.direct(a.x.inc, &message{Kind: kReport, Pub: "1@f:1", Sub: sub.Binding().Identity(), Pattern: "*", Subject: "late.from.old.run", Time: time.Now().UnixNano()})
	select {
	case s := <-got:
		t.Errorf("a report of a gone incarnation was delivered: %s", s)
	case <-time.After(time.Second):
	}
}

// the first message of a sender's directed stream must be number
// 1 (spec §7: "numbers its messages per session and stream ... from 1").
// The reader accepts any first number, so a lost snap (directed, n=1)
// followed by subs (n=2) is not a gap: the services in that snapshot are
// never learnt.
func TestRegressLostFirstDirectedMessageIsNoGap(t *testing.T) {
	a := newNode(t, "a:1")
	url := a.hub(EndpointConfig{})
	f := newFake(t, url, "f4f4f4f4f4f4f4f4", "f:4")
	f.hello()
	f.to = 1 // the directed snap (n=1) was lost on the way
	f.direct(a.x.inc, &message{Kind: kSubs, Subs: []subInfo{}})
	waitFor(t, "a gap counted for a directed stream that began at n=2", func() bool { return a.x.Stats().Gaps > 0 })
}

// the reader's rx map (and refused, and heard for late messages)
// keeps one entry per incarnation ever heard: nothing deletes them.
func TestRegressRxGrowsPerIncarnation(t *testing.T) {
	a := newNode(t, "a:1")
	url := a.hub(EndpointConfig{})
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for i := range 300 {
		f := &fake{t: t, nc: nc, inc: "inc" + strings.Repeat("x", 3) + string(rune('a'+i%26)) + string(rune('a'+i/26)), proc: "p:1"}
		f.hello()
		f.bcast(&message{Kind: kHeartbeat, Proc: f.proc})
		f.bcast(&message{Kind: kBye})
	}
	e := a.endpoint()
	waitFor(t, "every fake gone", func() bool {
		var n int
		_ = e.agent.Do(func() { n = len(e.peers) })
		return n == 0
	})
	waitFor(t, "the reader to forget every gone peer", func() bool { return e.rxSize.Load() <= 10 })
}

func TestRegressForwardedLeaksOnCallerTimeout(t *testing.T) {
	a := newNode(t, "a:1")
	b := newNode(t, "b:2")
	url := a.hub(EndpointConfig{})
	b.client(EndpointConfig{Connect: []string{url}})
	a.service("slow", func(s *runtime.Service) {
		s.ExportMethod("never", func(r *runtime.Request) {}) // answers later, or never
	})
	waitFor(t, "slow in b", func() bool { return remote(b.rt, "slow") != nil })
	for range 20 {
		ch := make(chan any, 1)
		s := b.service("ask-"+b.rt.UniqueID(), nil)
		_ = s.Agent().Post(func() {
			id := s.SendRequest(runtime.Named("slow"), "never", nil)
			s.ProcessFailure(id, func(f *runtime.Failure) { ch <- f }, 10*time.Millisecond)
		})
		<-ch
	}
	// the next heartbeat tick forgets them, and the callee's side too
	e := b.endpoint()
	waitFor(t, "forwarded requests forgotten", func() bool {
		var n int
		_ = e.agent.Do(func() { n = len(e.forwarded) })
		return n == 0
	})
	ea := a.endpoint()
	waitFor(t, "the callee's side forgotten", func() bool {
		n := 0
		_ = ea.agent.Do(func() {
			for _, p := range ea.peers {
				n += len(p.incoming)
			}
		})
		return n == 0
	})
}

// send() numbers a directed message before publish() finds it
// cannot be encoded (or is oversized) and drops it. The number is spent,
// so the receiver's next directed message shows a gap: a full resync that
// fails every request in flight between the two processes ("messages
// from it were lost") and replays caches, for one bad result.
func TestRegressUnsendableMessageSpendsASequenceNumber(t *testing.T) {
	a := newNode(t, "a:1")
	b := newNode(t, "b:2")
	url := a.hub(EndpointConfig{})
	b.client(EndpointConfig{Connect: []string{url}})
	a.service("svc", func(s *runtime.Service) {
		s.ExportMethod("odd", runtime.MethodFunc(func([]any) (any, error) { return []int{1}, nil }))
		s.ExportMethod("ok", runtime.MethodFunc(func([]any) (any, error) { return "ok", nil }))
		s.ExportMethod("slow", func(r *runtime.Request) {
			s.StartTimer(time.Second, "", func(string) { r.Reply("slow done") })
		})
	})
	waitFor(t, "svc in b", func() bool { return remote(b.rt, "svc") != nil })
	slow := make(chan any, 1)
	go func() { slow <- askUntimed(b, runtime.Named("svc"), "slow", 10*time.Second) }()
	time.Sleep(100 * time.Millisecond)
	_ = askUntimed(b, runtime.Named("svc"), "odd", 300*time.Millisecond)
	t.Logf("ok: %v", askUntimed(b, runtime.Named("svc"), "ok", 3*time.Second))
	v := <-slow
	if v != "slow done" {
		t.Errorf("an unrelated request in flight got %v (b gaps %d)", v, b.x.Stats().Gaps)
	}
}

// spec §2 says a reappearing remote service's new binding is ==
// to the old one, but a request sent to the old binding object fails at
// once with 57 (route() sees it withdrawn) though the service is visible.
func TestRegressRequestToOldBindingOfReappearedService(t *testing.T) {
	a := newNode(t, "a:1")
	url := a.hub(EndpointConfig{})
	f := newFake(t, url, "f5f5f5f5f5f5f5f5", "f:5")
	svc := []svcInfo{{ID: "1@f:5", Name: "fsvc", Audience: "*"}}
	f.hello()
	f.bcast(&message{Kind: kSnapshot, Proc: "f:5", Svcs: svc})
	waitFor(t, "fsvc", func() bool { return remote(a.rt, "fsvc") != nil })
	old := remote(a.rt, "fsvc")
	f.bcast(&message{Kind: kWithdrawn, ID: "1@f:5"})
	waitFor(t, "fsvc gone", func() bool { return remote(a.rt, "fsvc") == nil })
	f.bcast(&message{Kind: kAvailable, Proc: "f:5", Svcs: svc})
	waitFor(t, "fsvc back", func() bool { return remote(a.rt, "fsvc") != nil })
	v := askUntimed(a, old.Target(), "m", time.Second)
	if fl, ok := v.(*runtime.Failure); ok {
		t.Errorf("request to the old (==) binding: %v", fl)
	}
}

// a Go publisher's cached report that is over the payload limit
// (Go code is not held to MaxContentSize) spends a sequence number each
// time it is replayed; the next rep shows a gap, the resync replays the
// cache again: a resync loop that never ends.
func TestRegressOversizedCachedReportResyncLoop(t *testing.T) {
	a := newNode(t, "a:1")
	b := newNode(t, "b:2")
	url := a.hub(EndpointConfig{})
	b.client(EndpointConfig{Connect: []string{url}})
	a.service("pub", func(s *runtime.Service) {
		s.Publish("big", strings.Repeat("x", 2<<20), runtime.Forever)
		s.Publish("small", "s", runtime.Forever)
	})
	waitFor(t, "pub in b", func() bool { return remote(b.rt, "pub") != nil })
	var mu sync.Mutex
	n := 0
	b.service("sub", func(s *runtime.Service) {
		s.MonitorReports(runtime.Named("pub"), "*", func(runtime.Report) { mu.Lock(); n++; mu.Unlock() })
	})
	// the small cached report arrives, the big one is refused by a's
	// side; then two heartbeats of a (which carry a's last directed
	// number) pass without a gap
	waitFor(t, "the small report and the big one refused", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return n == 1 && a.x.Stats().Oversized >= 1
	})
	r0 := b.x.Stats().Received
	waitFor(t, "two heartbeats", func() bool { return b.x.Stats().Received >= r0+2 })
	if g := b.x.Stats().Gaps; g != 0 {
		t.Errorf("an oversized report that was never sent made %d gaps", g)
	}
}
