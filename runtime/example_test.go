package runtime_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/agentd/agentd/runtime"
)

// Go services publish and subscribe in the same runtime as Lua ones.
func Example_publishSubscribe() {
	rt := runtime.New(runtime.Options{Logger: slog.New(slog.DiscardHandler)})
	defer rt.Shutdown(context.Background())

	heard := make(chan string, 4)
	board, _ := rt.NewAgent("board")
	board.Do(func() {
		s, _ := board.NewService(runtime.ServiceConfig{Name: "board"})
		s.MonitorReports(runtime.Named("clock"), "time.*", func(r runtime.Report) {
			heard <- fmt.Sprintf("%s from %s: %v", r.Subject, r.Publisher.Name(), r.Content)
		})
		s.Register()
	})

	clock, _ := rt.NewAgent("clock")
	clock.Do(func() {
		s, _ := clock.NewService(runtime.ServiceConfig{Name: "clock"})
		s.Register()
		s.Publish("time.started", "at boot", runtime.Forever) // cached for later subscribers
		s.PublishMany([]string{"time.tick", "time.tock"}, int64(1), 0)
	})
	for range 3 {
		fmt.Println(<-heard)
	}
	// Output:
	// time.started from clock: at boot
	// time.tick from clock: 1
	// time.tock from clock: 1
}

// A Go service exports a method; another sends a request and gets the
// answer in a callback on its own agent.
func Example_request() {
	rt := runtime.New(runtime.Options{Logger: slog.New(slog.DiscardHandler)})
	defer rt.Shutdown(context.Background())

	calc, _ := rt.NewAgent("calc")
	calc.Do(func() {
		s, _ := calc.NewService(runtime.ServiceConfig{Name: "calc"})
		s.ExportMethod("add", runtime.MethodFunc(func(args []any) (any, error) {
			return args[0].(int64) + args[1].(int64), nil
		}))
		s.Register()
	})

	answers := make(chan string, 2)
	client, _ := rt.NewAgent("client")
	client.Do(func() {
		s, _ := client.NewService(runtime.ServiceConfig{Name: "client"})
		s.Register()
		for _, method := range []string{"add", "mul"} {
			id := s.SendRequest(runtime.Named("calc"), method, []any{int64(2), int64(3)})
			s.ProcessResponse(id, func(result any, _ string) { answers <- fmt.Sprint(method, " = ", result) })
			s.ProcessFailure(id, func(f *runtime.Failure) { answers <- fmt.Sprint(method, ": ", f) }, time.Second)
		}
	})
	fmt.Println(<-answers)
	fmt.Println(<-answers)
	// Output:
	// add = 5
	// mul: failure 55 (Method Unavailable) from netsvc: mul
}

// Timers, registry subscriptions and the orderly shutdown.
func Example_timersAndRegistry() {
	rt := runtime.New(runtime.Options{Logger: slog.New(slog.DiscardHandler), ShutdownDelay: 10 * time.Millisecond})
	events := make(chan string, 8)

	watcher, _ := rt.NewAgent("watcher")
	watcher.Do(func() {
		s, _ := watcher.NewService(runtime.ServiceConfig{Name: "watcher"})
		s.SubscribeServiceGroup("workers", func(ev runtime.RegistryEvent) {
			state := map[runtime.Status]string{runtime.Available: "joined", runtime.Withdrawn: "left"}[ev.Status]
			events <- ev.Binding.Name() + " " + state + " " + ev.Group
		})
		s.SubscribeShutdown(func(p runtime.ShutdownPhase) { events <- fmt.Sprint("shutdown phase ", p) })
		s.Register()
	})

	worker, _ := rt.NewAgent("worker")
	worker.Do(func() {
		s, _ := worker.NewService(runtime.ServiceConfig{Name: "worker", Groups: []string{"workers"}})
		s.Register()
		s.StartTimer(5*time.Millisecond, "retire", func(string) { s.LeaveGroup("workers") })
	})
	fmt.Println(<-events)
	fmt.Println(<-events)
	rt.ScheduleShutdown(-1)
	fmt.Println(<-events)
	fmt.Println(<-events)
	<-rt.Done()
	// Output:
	// worker joined workers
	// worker left workers
	// shutdown phase 0
	// shutdown phase 1
}
