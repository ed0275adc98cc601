// Regression tests for bugs found by a review of this package: each
// comment describes the bug as it was (the test fails on that code).
package runtime

import (
	"sync"
	"testing"
	"time"
)

// reloadOnce replaces prev by a new held service of the same name, as
// luabind's swap does, and returns the new version.
func reloadOnce(t *testing.T, prev *Service) *Service {
	t.Helper()
	a := prev.Agent()
	var next *Service
	if err := a.Do(func() {
		var err error
		next, err = a.NewService(ServiceConfig{Name: prev.Binding().Name()})
		if err != nil {
			t.Error(err)
			return
		}
		next.Hold()
		if err := next.Adopt(prev); err != nil {
			t.Error(err)
			return
		}
		if err := a.Commit([]*Service{next}, nil); err != nil {
			t.Error(err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	return next
}

// v1 is retired and still draining (a coroutine waits in call)
// when a second reload retires v2; v2 has nothing pending and is disposed
// first. end(v2) sets v1.successor = nil, so what v1 publishes once its
// call returns is silently dropped, though v3 answers for the binding.
// (semantics.md §12: "one published on a replaced (retired) service goes
// out under the kept identity".)
func TestRegressRetiredPublishLostWhenMiddleVersionDisposed(t *testing.T) {
	rt := quietRuntime(Options{})
	defer shutdown(t, rt)
	got := make(chan string, 10)
	service(t, rt, ServiceConfig{Name: "sub"}, func(s *Service) {
		s.MonitorReports(Named("pub"), "*", func(r Report) { got <- r.Subject })
	})
	v1 := service(t, rt, ServiceConfig{Name: "pub"}, nil)
	v2 := reloadOnce(t, v1)
	_ = reloadOnce(t, v2)
	a := v1.Agent()
	_ = a.Do(func() { v2.Dispose() }) // v2 drained at once; v1 still drains
	_ = a.Do(func() { v1.Publish("late.from.v1", nil, 0) })
	select {
	case s := <-got:
		t.Logf("delivered: %s", s)
	case <-time.After(2 * time.Second):
		t.Fatal("the report v1 published after v2 was disposed was lost")
	}
}

// the same, with Publish on v1 from another goroutine (allowed by
// the docs): end(v2) writes v1.successor without v1.pubMu. Run with -race.
func TestRegressRetiredSuccessorRace(t *testing.T) {
	rt := quietRuntime(Options{MailboxSize: 1 << 20})
	defer shutdown(t, rt)
	v1 := service(t, rt, ServiceConfig{Name: "pub"}, nil)
	v2 := reloadOnce(t, v1)
	_ = reloadOnce(t, v2)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				v1.Publish("x", nil, 0)
			}
		}
	}()
	time.Sleep(10 * time.Millisecond)
	_ = v1.Agent().Do(func() { v2.Dispose() })
	time.Sleep(10 * time.Millisecond)
	close(stop)
	wg.Wait()
}

// a connection that becomes active while an agent is inside a
// callback (a script loading) is told twice to a service that callback
// registers: once by AnnounceConnection's queued notice (the service is
// live when it runs) and once by tellConnections at Register.
func TestRegressConnectionActiveToldTwice(t *testing.T) {
	rt := quietRuntime(Options{})
	defer shutdown(t, rt)
	a, err := rt.NewAgent("script")
	if err != nil {
		t.Fatal(err)
	}
	var told []ConnectionState
	_ = a.Do(func() {
		// the exchange's goroutine announces the connection now
		rt.AnnounceConnection(ConnectionEvent{Key: "exchange client x", State: ConnectionActive})
		s, _ := a.NewService(ServiceConfig{Name: "svc"})
		s.SetHooks(Hooks{Connection: func(ev ConnectionEvent) { told = append(told, ev.State) }})
		_ = s.Register()
	})
	_ = a.Do(func() {})
	var n int
	_ = a.Do(func() { n = len(told) })
	if n != 1 {
		t.Errorf("handleConnection called %d times for one ACTIVE connection", n)
	}
}

// a priority job scheduled by a priority job must run after the
// next entry (semantics.md §3.2); runPriority counts only current jobs,
// so a replaced (stale) job in the queue lets one of the next generation
// run before the entry.
func TestRegressPriorityGenerationWithStaleJob(t *testing.T) {
	rt := quietRuntime(Options{})
	defer shutdown(t, rt)
	s := service(t, rt, ServiceConfig{Name: "s"}, nil)
	var rec recorder
	done := make(chan struct{})
	_ = s.Agent().Do(func() {
		_, _ = s.ScheduleAction(PriorityJob, "p", func(string) { rec.add("stale") })
		_, _ = s.ScheduleAction(PriorityJob, "p", func(string) { // replaces it
			rec.add("p")
			_, _ = s.ScheduleAction(PriorityJob, "q", func(string) { rec.add("q") })
		})
		_ = s.Agent().Post(func() { rec.add("entry") })
		_ = s.Agent().Post(func() { close(done) })
	})
	<-done
	got := rec.take()
	if len(got) != 3 || got[1] != "entry" {
		t.Errorf("order %v, want [p entry q]", got)
	}
}

// Commit checks that every predecessor is live, then runs the
// Destroy hooks of the removed services; a hook that destroys a kept
// service (a sibling of the same script) leaves handOver working on an
// ended predecessor: the new version goes live on a withdrawn binding,
// invisible, and its groups are re-joined (announced) for that
// withdrawn binding.
func TestRegressCommitAfterHookDestroyedPredecessor(t *testing.T) {
	rt := quietRuntime(Options{})
	defer shutdown(t, rt)
	a, _ := rt.NewAgent("script")
	var b *Service
	var bNext *Service
	_ = a.Do(func() {
		x, _ := a.NewService(ServiceConfig{Name: "a"})
		b, _ = a.NewService(ServiceConfig{Name: "b", Groups: []string{"g"}})
		x.SetHooks(Hooks{Destroy: func() { b.Destroy() }})
		_ = x.Register()
		_ = b.Register()
		bNext, _ = a.NewService(ServiceConfig{Name: "b", Groups: []string{"g"}})
		bNext.Hold()
		if err := bNext.Adopt(b); err != nil {
			t.Error(err)
		}
		if err := a.Commit([]*Service{bNext}, []*Service{x}); err != nil {
			t.Logf("commit refused: %v", err)
		}
	})
	var live bool
	_ = a.Do(func() { live = bNext.Registered() })
	if live && len(rt.LookupServiceName("b")) == 0 {
		t.Errorf("new version live but not in the registry; its binding withdrawn=%v; group g lists %d", bNext.Binding().Withdrawn(), len(rt.LookupServiceGroup("g")))
	}
}
