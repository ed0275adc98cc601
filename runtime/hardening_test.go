package runtime

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// Publish may be called from any goroutine, also while the publisher's
// agent replaces it through Hold, Adopt and Commit (a hot reload at the Go
// level): no report is lost, each goroutine's reports keep their order,
// and -race finds nothing.
func TestPublishFromAnotherGoroutineDuringCommit(t *testing.T) {
	rt := quietRuntime(Options{MailboxSize: 1 << 20})
	defer shutdown(t, rt)
	const n = 20000
	var mu sync.Mutex
	var got []int64
	var fromNew []string
	all := make(chan struct{})
	service(t, rt, ServiceConfig{Name: "sub"}, func(s *Service) {
		s.MonitorReports(Named("pub"), "*", func(r Report) {
			mu.Lock()
			defer mu.Unlock()
			switch r.Subject {
			case "seq":
				got = append(got, r.Content.(int64))
				if len(got) == n {
					close(all)
				}
			default:
				fromNew = append(fromNew, r.Subject)
			}
		})
	})
	old := service(t, rt, ServiceConfig{Name: "pub"}, nil)
	a := old.Agent()

	// publish the sequence on the old service from another goroutine,
	// while the agent reloads it twice
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range int64(n) {
			old.Publish("seq", i, 0)
		}
	}()
	for range 2 {
		var err error
		if e := a.Do(func() {
			var prev *Service
			for _, x := range a.Services() {
				if x.Registered() {
					prev = x
				}
			}
			next, e := a.NewService(ServiceConfig{Name: "pub"})
			if e != nil {
				err = e
				return
			}
			next.Hold()
			if err = next.Adopt(prev); err != nil {
				return
			}
			next.Publish("queued.while.held", nil, 0)
			err = a.Commit([]*Service{next}, nil)
		}); e != nil {
			t.Fatal(e)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	<-done
	select {
	case <-all:
	case <-time.After(time.Minute):
		mu.Lock()
		t.Fatalf("%d of %d reports arrived", len(got), n)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, v := range got {
		if v != int64(i) {
			t.Fatalf("report %d carries %d: order lost", i, v)
		}
	}
	if len(fromNew) != 2 {
		t.Errorf("reports of the new versions: %v", fromNew)
	}
}

// A priority job that reschedules itself cannot starve the mailbox: other
// work still runs, and an orderly shutdown completes.
func TestSelfReschedulingPriorityJobDoesNotStarve(t *testing.T) {
	rt := quietRuntime(Options{})
	ran := make(chan struct{})
	s := service(t, rt, ServiceConfig{Name: "spin"}, nil)
	if err := s.Agent().Do(func() {
		var job func(string)
		job = func(name string) { _, _ = s.ScheduleAction(PriorityJob, name, job) }
		_, _ = s.ScheduleAction(PriorityJob, "j", job)
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Agent().Post(func() { close(ran) }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
	case <-time.After(time.Minute):
		t.Fatal("a mailbox entry never ran behind the priority job")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := rt.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// A service that churns against a slow registry subscriber is held back
// once the subscriber's queued announcements pass the mailbox bound; none
// is dropped, and a shutdown does not wait behind the backlog.
func TestChurnAgainstASlowSubscriberIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const limit = 100
		rt := quietRuntime(Options{MailboxSize: limit})
		gate := make(chan struct{})
		var seen int
		slow := service(t, rt, ServiceConfig{Name: "slow"}, nil)
		if err := slow.Agent().Do(func() {
			slow.SubscribeServiceName("churn", func(RegistryEvent) {
				<-gate
				seen++
			})
		}); err != nil {
			t.Fatal(err)
		}
		a, _ := rt.NewAgent("churner")
		const ops = 1000
		progress := 0
		churned := make(chan struct{})
		// ten services created and destroyed per entry, as a timer
		// callback would (back-pressure acts between entries)
		var step func()
		step = func() {
			for range 10 {
				s, _ := a.NewService(ServiceConfig{Name: "churn"})
				_ = s.Register()
				s.Destroy()
				progress++
			}
			if progress < ops {
				_ = a.Post(step)
			} else {
				close(churned)
			}
		}
		_ = a.Post(step)
		synctest.Wait()
		if q := slow.Agent().mb.notices.Load(); q > limit+20 {
			t.Errorf("%d announcements queued for the slow subscriber, bound %d", q, limit)
		}
		if progress >= ops {
			t.Errorf("the churning agent was never held back")
		}
		close(gate) // the subscriber catches up: the churn goes on
		<-churned
		synctest.Wait()
		if seen != 2*ops {
			t.Errorf("the subscriber saw %d announcements, want %d", seen, 2*ops)
		}
		shutdown(t, rt)
	})
}

// A shutdown does not wait behind a backlog of announcements, nor for a
// churning agent held back by it.
func TestShutdownDoesNotWaitBehindAnnouncements(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := quietRuntime(Options{MailboxSize: 100})
		gate := make(chan struct{})
		slow := service(t, rt, ServiceConfig{Name: "slow"}, nil)
		_ = slow.Agent().Do(func() {
			slow.SubscribeServiceName("churn", func(RegistryEvent) { <-gate })
		})
		a, _ := rt.NewAgent("churner")
		var step func()
		step = func() {
			for range 10 {
				s, _ := a.NewService(ServiceConfig{Name: "churn"})
				_ = s.Register()
				s.Destroy()
			}
			_ = a.Post(step)
		}
		_ = a.Post(step)
		synctest.Wait()
		start := time.Now()
		rt.ScheduleShutdown(0)
		close(gate) // the callback running now ends; the backlog is skipped
		<-rt.Done()
		if took := time.Since(start); took >= MaxBackpressure {
			t.Errorf("shutdown took %v", took)
		}
	})
}
