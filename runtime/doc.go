// Package runtime is the core of agentd: agents, their mailboxes and owner
// goroutines, services and their bindings, the service registry, reports
// (publish/subscribe), requests (request/reply), timers, alarms, jobs and
// the orderly shutdown. It is a plain Go API: it knows nothing of Lua,
// files or the network, so a Go program can host Go services with it, and
// luabind builds the Lua API on top of it.
//
// # Ownership and goroutines
//
// An Agent is a bounded mailbox plus exactly one goroutine, its owner, that
// takes entries from the mailbox in order and runs the callback each one
// carries. A Service belongs to one agent; its callbacks (timers, reports,
// requests, registry announcements, hooks) only ever run on that agent's
// owner goroutine, one at a time. Service methods must be called on the
// owner goroutine, from a callback or from a function given to Agent.Post or
// Agent.Do; the exceptions (Publish, PublishMany, SendReport, lookups on the
// Runtime, Binding methods) say so. Timers run on Go's timer goroutines and
// do nothing but post to the mailbox.
//
// # Mailboxes
//
// A mailbox is one FIFO queue. Reports and requests count against its bound
// (Options.MailboxSize): a report that finds the mailbox full is dropped
// for that subscriber and counted (Stats.ReportsDropped); a request is
// answered at once with SERVER_RESOURCE_UNAVAILABLE (51). Everything else
// (registry and subscription announcements, responses, timers, jobs,
// shutdown notices) is never refused while the agent runs, so those are
// never lost; announcements are bounded instead by back-pressure on the
// agent that makes the registry changes (Agent.backpressure). Priority jobs
// run before the next mailbox entry (those they schedule, after it),
// standard jobs are mailbox entries, idle jobs run only when the mailbox is
// empty.
//
// # Services
//
// A service's life cycle is one state (see life in service.go): new, held
// (a hot reload's new version), live, destroying, retired (replaced by a
// reload) and ended, with one teardown (Service.end). A remote service (a
// stand-in for one of another process, made by the exchange) is a service
// of the exchange's agent with a remote binding.
//
// # Ordering
//
// Reports from one publisher reach each subscriber in publish order.
// Registry announcements are queued under the registry lock, so every
// subscriber sees registry changes in the same order. A service's
// availability is announced before its group joins; on withdrawal its group
// leaves are announced before the withdrawal.
//
// # Locks
//
// Lock order: Registry lock, then a publisher's lock (its subscriber list
// and report cache), then a mailbox lock. No callback ever runs with a lock
// held; announcements are queued, not called.
// The connection lock (exchange connection events) is taken before the
// runtime's lock on its list of agents, and before mailbox locks.
//
// # Values
//
// Report content, request arguments and results are plain immutable data:
// nil, bool, int64, float64, string, []any and map[string]any, nested.
// They are shared, never copied, between the agents they reach, so nobody
// may modify them after handing them over.
//
// # Shutdown
//
// ScheduleShutdown tells every shutdown subscriber ShutdownPending, waits
// the delay, tells them ShutdownArrived, then stops every agent: each agent
// destroys its services (Destroy hooks run, services are withdrawn, requests
// they had not answered fail), runs its OnExit functions and ends. Done is
// closed when every agent has ended. Shutdown does the same without delay
// and waits, bounded by its context.
package runtime
