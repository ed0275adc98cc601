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
)

// node is one runtime with an exchange, as one process would have.
type node struct {
	t   *testing.T
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

func newNode(t *testing.T, proc string) *node {
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
