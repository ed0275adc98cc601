package runtime

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// recorder collects lines from callbacks running on agent goroutines.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.lines
	r.lines = nil
	return out
}

func quietRuntime(opts Options) *Runtime {
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	opts.ProcessIdentity = "test:1"
	return New(opts)
}

// service creates and registers a service on a new agent.
func service(t *testing.T, rt *Runtime, cfg ServiceConfig, setup func(s *Service)) *Service {
	t.Helper()
	a, err := rt.NewAgent(cfg.Name)
	if err != nil {
		t.Fatal(err)
	}
	var s *Service
	if err := a.Do(func() {
		s, err = a.NewService(cfg)
		if err != nil {
			return
		}
		if setup != nil {
			setup(s)
		}
		err = s.Register()
	}); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func shutdown(t *testing.T, rt *Runtime) {
	t.Helper()
	if err := rt.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestPublishSubscribeCacheAndOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := quietRuntime(Options{})
		var rec recorder
		pub := service(t, rt, ServiceConfig{Name: "publisher"}, nil)
		pub.Agent().Do(func() {
			pub.Publish("system.ctime", int64(1), Forever)
			pub.Publish("system.gone", "x", time.Second)
			pub.Publish("other", "y", Forever)
		})
		time.Sleep(2 * time.Second) // system.gone expires
		service(t, rt, ServiceConfig{Name: "subscriber"}, func(s *Service) {
			s.SetHooks(Hooks{PublisherNotification: func(n PublisherNotification) {
				rec.add("notify %s %d", n.Publisher.Name(), n.Status)
			}})
			s.MonitorReports(Named("publisher"), "system.*", func(r Report) {
				rec.add("%s %s %v", r.Pattern, r.Subject, r.Content)
			})
			s.MonitorReports(Named("publisher"), "*.time", func(r Report) {
				rec.add("%s %s %v", r.Pattern, r.Subject, r.Content)
			})
		})
		pub.Agent().Do(func() {
			for i := range 3 {
				pub.Publish("system.time", int64(i), 0)
			}
		})
		synctest.Wait()
		want := []string{
			"notify publisher 0",
			"system.* system.ctime 1",
			"system.* system.time 0", "*.time system.time 0",
			"system.* system.time 1", "*.time system.time 1",
			"system.* system.time 2", "*.time system.time 2",
		}
		if got := rec.take(); !slices.Equal(got, want) {
			t.Errorf("got\n%q\nwant\n%q", got, want)
		}
		pub.Agent().Stop()
		synctest.Wait()
		if got := rec.take(); !slices.Equal(got, []string{"notify publisher 1"}) {
			t.Errorf("after publisher stop: %q", got)
		}
		shutdown(t, rt)
	})
}

func TestRegistryAnnouncements(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := quietRuntime(Options{})
		var rec recorder
		service(t, rt, ServiceConfig{Name: "early", Groups: []string{"g1"}}, nil)
		service(t, rt, ServiceConfig{Name: "watcher"}, func(s *Service) {
			s.SubscribeRegistry(func(ev RegistryEvent) {
				rec.add("all %s %q %d", ev.Binding.Name(), ev.Group, ev.Status)
			})
			s.SubscribeServiceGroup("g1", func(ev RegistryEvent) {
				rec.add("group %s %q %d", ev.Binding.Name(), ev.Group, ev.Status)
			})
		})
		late := service(t, rt, ServiceConfig{Name: "late", Groups: []string{"g1"}}, nil)
		late.Agent().Do(func() { late.Destroy() })
		synctest.Wait()
		want := []string{
			`all early "" 0`, `all early "g1" 0`, `group early "g1" 0`,
			`all watcher "" 0`,
			`all late "" 0`, `all late "g1" 0`, `group late "g1" 0`,
			`all late "g1" 1`, `group late "g1" 1`, `all late "" 1`,
		}
		if got := rec.take(); !slices.Equal(got, want) {
			t.Errorf("got\n%q\nwant\n%q", got, want)
		}
		shutdown(t, rt)
	})
}

func TestRequestsAndFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := quietRuntime(Options{})
		var rec recorder
		var held *Request
		srv := service(t, rt, ServiceConfig{Name: "calc"}, func(s *Service) {
			s.ExportMethod("add", func(r *Request) { r.Reply(r.Args[0].(int64) + r.Args[1].(int64)) })
			s.ExportMethod("hold", func(r *Request) { held = r })
		})
		cli := service(t, rt, ServiceConfig{Name: "client"}, nil)
		send := func(target Target, method string, timeout time.Duration, args ...any) {
			cli.Agent().Do(func() {
				id := cli.SendRequest(target, method, args)
				cli.ProcessResponse(id, func(res any, _ string) { rec.add("%s -> %v", method, res) })
				cli.ProcessFailure(id, func(f *Failure) { rec.add("%s -> failure %d %s", method, f.Code, f.Details) }, timeout)
			})
			synctest.Wait()
		}
		send(Named("calc"), "add", 0, int64(2), int64(3))
		send(Named("calc"), "nope", 0)
		send(Named("missing"), "add", 0)
		send(Named("calc"), "hold", time.Second)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		srv.Agent().Do(func() { held.Reply("late") }) // ignored: timed out
		send(Named("calc"), "hold", 0)
		srv.Agent().Do(func() { srv.Destroy() })
		synctest.Wait()
		want := []string{
			"add -> 5",
			"nope -> failure 55 nope",
			"add -> failure 46 missing",
			"hold -> failure 47 ",
			"hold -> failure 57 Service was withdrawn before response received.",
		}
		if got := rec.take(); !slices.Equal(got, want) {
			t.Errorf("got\n%q\nwant\n%q", got, want)
		}
		shutdown(t, rt)
	})
}

func TestJobsOrderAndTimers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := quietRuntime(Options{})
		var rec recorder
		s := service(t, rt, ServiceConfig{Name: "jobs"}, nil)
		s.Agent().Do(func() {
			for _, k := range []JobKind{IdleJob, StandardJob, PriorityJob, IdleJob, StandardJob, PriorityJob} {
				_, _ = s.ScheduleAction(k, "", func(name string) { rec.add("job %d", k) })
			}
			s.StartTimer(time.Second, "t", func(name string) { rec.add("timer %s", name) })
			s.StartTimer(2*time.Second, "t", func(name string) { rec.add("timer2 %s", name) }) // replaces
			s.StartTimer(time.Second, "c", func(name string) { rec.add("cancelled") })
			s.CancelTimer("c")
		})
		time.Sleep(3 * time.Second)
		synctest.Wait()
		want := []string{"job 2", "job 2", "job 1", "job 1", "job 0", "job 0", "timer2 t"}
		if got := rec.take(); !slices.Equal(got, want) {
			t.Errorf("got %q want %q", got, want)
		}
		shutdown(t, rt)
	})
}

func TestTimersWithTheSameDeadlineFireInStartOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := quietRuntime(Options{})
		var rec recorder
		s := service(t, rt, ServiceConfig{Name: "timers"}, nil)
		s.Agent().Do(func() {
			for _, name := range []string{"c", "a", "d", "b"} {
				s.StartTimer(time.Second, name, func(name string) { rec.add("%s", name) })
			}
			s.SetAlarm(time.Now().Add(time.Second), "alarm", func(name string) { rec.add("%s", name) })
			s.StartTimer(time.Second, "panics", func(string) { panic("boom") })
			s.StartTimer(time.Second, "after", func(name string) { rec.add("%s", name) })
		})
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got, want := rec.take(), []string{"c", "a", "d", "b", "alarm", "after"}; !slices.Equal(got, want) {
			t.Errorf("got %q want %q", got, want)
		}
		shutdown(t, rt)
	})
}

func TestMailboxOverflowIsCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := quietRuntime(Options{MailboxSize: 4})
		block := make(chan struct{})
		var n int
		sub := service(t, rt, ServiceConfig{Name: "slow"}, func(s *Service) {
			s.MonitorReports(Named("fast"), "*", func(Report) { n++ })
			s.ExportMethod("m", func(r *Request) { r.Reply(nil) })
		})
		pub := service(t, rt, ServiceConfig{Name: "fast"}, nil)
		sub.Agent().Post(func() { <-block })
		pub.Agent().Do(func() {
			for range 10 {
				pub.Publish("x", nil, 0)
			}
		})
		var code int
		pub.Agent().Do(func() {
			id := pub.SendRequest(sub.Binding().Target(), "m", nil)
			pub.ProcessFailure(id, func(f *Failure) { code = f.Code }, 0)
		})
		close(block)
		synctest.Wait()
		st := rt.Stats()
		if st.ReportsDropped != 6 || st.ReportsDelivered != 4 || st.RequestsRefused != 1 {
			t.Errorf("stats %+v", st)
		}
		pub.Agent().Do(func() {})
		if code != ServerResourceUnavailable {
			t.Errorf("request failure code %d, want 51", code)
		}
		sub.Agent().Do(func() {
			if n != 4 {
				t.Errorf("delivered %d reports, want 4", n)
			}
		})
		shutdown(t, rt)
	})
}

func TestShutdownPhases(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := quietRuntime(Options{ShutdownDelay: 5 * time.Second})
		var rec recorder
		service(t, rt, ServiceConfig{Name: "s"}, func(s *Service) {
			s.SubscribeShutdown(func(p ShutdownPhase) {
				rec.add("phase %d at %v", p, time.Since(time.Unix(946684800, 0)).Round(time.Second))
			})
			s.SetHooks(Hooks{Destroy: func() { rec.add("destroy") }})
		})
		rt.ScheduleShutdown(-1)
		<-rt.Done()
		want := []string{"phase 0 at 0s", "phase 1 at 5s", "destroy"}
		if got := rec.take(); !slices.Equal(got, want) {
			t.Errorf("got %q want %q", got, want)
		}
	})
}

// A Go panic in a job is reported; it neither crashes the process nor
// costs the next mailbox entry, and a cron action stays armed.
func TestPanicsInJobsLoseNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := quietRuntime(Options{})
		var rec recorder
		s := service(t, rt, ServiceConfig{Name: "p"}, func(s *Service) {
			s.ExportMethod("m", func(r *Request) { rec.add("request"); r.Reply(nil) })
		})
		other := service(t, rt, ServiceConfig{Name: "other"}, nil)
		var reported []string
		s.Agent().Post(func() {
			s.Agent().OnPanic(func(v any, stack []byte) bool {
				reported = append(reported, fmt.Sprint(v))
				return len(stack) > 0
			})
			_, _ = s.ScheduleAction(PriorityJob, "", func(string) { panic("priority job") })
			_, _ = s.ScheduleAction(IdleJob, "", func(string) { panic("idle job") })
			_, _ = s.ScheduleCron("* * * * *", "cron", func(string) { rec.add("cron"); panic("cron") })
		})
		other.Agent().Do(func() { other.SendRequest(s.Binding().Target(), "m", nil) })
		time.Sleep(150 * time.Second)
		synctest.Wait()
		got := rec.take()
		if len(got) != 3 || got[0] != "request" || got[1] != "cron" || got[2] != "cron" {
			t.Errorf("got %q, want the request then two cron runs", got)
		}
		if st := rt.Stats(); st.CallbackErrors != 4 {
			t.Errorf("%d callback errors counted, want 4", st.CallbackErrors)
		}
		s.Agent().Do(func() {
			if got := strings.Join(reported, ","); got != "priority job,idle job,cron,cron" {
				t.Errorf("OnPanic saw %q", got)
			}
		})
		shutdown(t, rt)
	})
}

// Replaced idle jobs do not pile up while an agent is never idle.
func TestReplacedIdleJobsAreCompacted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := quietRuntime(Options{})
		s := service(t, rt, ServiceConfig{Name: "busy"}, nil)
		s.Agent().Do(func() {
			for range 10000 {
				_, _ = s.ScheduleAction(IdleJob, "flush", func(string) {})
			}
			if n := len(s.agent.idle); n > 200 {
				t.Errorf("%d idle jobs queued for one live job", n)
			}
		})
		shutdown(t, rt)
	})
}

// A service created while its agent stops (by a destroy hook) is refused.
func TestNoNewServiceWhileStopping(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := quietRuntime(Options{})
		var err error
		s := service(t, rt, ServiceConfig{Name: "z"}, nil)
		s.SetHooks(Hooks{Destroy: func() { _, err = s.Agent().NewService(ServiceConfig{Name: "ghost"}) }})
		s.Agent().Stop()
		<-s.Agent().Done()
		if err != ErrClosed || len(rt.LookupServiceName("ghost")) != 0 {
			t.Errorf("error %v, ghost registered: %d", err, len(rt.LookupServiceName("ghost")))
		}
		shutdown(t, rt)
	})
}
