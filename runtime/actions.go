package runtime

import (
	"container/heap"
	"fmt"
	"slices"
	"time"

	"github.com/agentd/agentd/internal/cron"
	"github.com/agentd/agentd/internal/subject"
)

// JobKind says when a scheduled action runs, numbered as OSE's IDLE_JOB,
// STANDARD_JOB and PRIORITY_JOB.
type JobKind int

// Job kinds. A priority job runs before the next mailbox event; a standard
// job is queued behind the events already waiting; an idle job runs only
// when the mailbox is empty and no priority job waits. Jobs of one kind run
// in the order they were scheduled.
const (
	IdleJob     JobKind = 0
	StandardJob JobKind = 1
	PriorityJob JobKind = 2
)

type actionKind uint8

const (
	actTimer actionKind = iota
	actAlarm
	actJob
	actCron
)

// An action is a timer, an alarm, a job or a cron action of a service.
type action struct {
	svc   *Service
	kind  actionKind
	name  string
	fn    func(name string)
	sched *cron.Schedule
	at    time.Time // when a timer, alarm or cron action is due
	seq   uint64    // order of arming, to break ties between equal deadlines
	index int       // position in the agent's timer heap; -1 when not in it
}

func (s *Service) table(k actionKind) *map[string]*action {
	switch k {
	case actTimer:
		return &s.timers
	case actAlarm:
		return &s.alarms
	}
	return &s.actions
}

// add records act under its name, cancelling any pending action of the
// same table and name.
func (s *Service) add(act *action) {
	t := s.table(act.kind)
	if *t == nil {
		*t = make(map[string]*action)
	}
	if old := (*t)[act.name]; old != nil {
		old.stopTimer()
	}
	(*t)[act.name] = act
}

func (act *action) current() bool {
	s := act.svc
	return !s.Destroyed() && (*s.table(act.kind))[act.name] == act
}

// fire runs the action if it is still current, and reports whether it ran.
func (act *action) fire() bool {
	if !act.current() {
		return false
	}
	if act.kind != actCron {
		delete(*act.svc.table(act.kind), act.name)
	} else {
		defer func() {
			if act.current() {
				act.armCron(time.Now())
			}
		}()
	}
	act.fn(act.name)
	return true
}

// post queues a job on its agent.
func (act *action) post() {
	act.svc.agent.mb.push(entry{kind: entryFunc, fn: func() { act.fire() }}, false)
}

// arm puts act in its agent's timer heap, due at at.
func (act *action) arm(at time.Time) {
	act.at = at
	act.seq = act.svc.rt.seq.Add(1)
	a := act.svc.agent
	heap.Push(&a.timers, act)
	a.rearm()
}

// stopTimer takes act out of its agent's timer heap, if it is there.
func (act *action) stopTimer() {
	if act.index >= 0 {
		a := act.svc.agent
		heap.Remove(&a.timers, act.index)
		a.rearm()
	}
}

func (act *action) armCron(now time.Time) {
	next := act.sched.Next(now)
	if next.IsZero() {
		delete(*act.svc.table(act.kind), act.name)
		return
	}
	act.arm(next)
}

// StartTimer calls fn(name) once, delay from now. An empty name is
// replaced by a generated one; the name is returned. Starting a timer with
// the name of a pending one replaces it.
func (s *Service) StartTimer(delay time.Duration, name string, fn func(name string)) string {
	if name == "" {
		name = s.rt.nextName("timer")
	}
	if s.Destroyed() {
		return name
	}
	act := &action{svc: s, kind: actTimer, name: name, fn: fn, index: -1}
	s.add(act)
	act.arm(time.Now().Add(max(delay, 0)))
	return name
}

// CancelTimer cancels a pending timer; it reports whether one was pending.
func (s *Service) CancelTimer(name string) bool { return s.cancel(actTimer, name) }

// CancelAllTimers cancels the pending timers whose name matches pattern
// (subject pattern syntax), or all of them when pattern is "*".
func (s *Service) CancelAllTimers(pattern string) { s.cancelMatching(actTimer, pattern) }

// TimerPending reports whether a timer of that name is pending.
func (s *Service) TimerPending(name string) bool { return s.timers[name] != nil }

// SetAlarm calls fn(name) at time at. Names work as for StartTimer.
func (s *Service) SetAlarm(at time.Time, name string, fn func(name string)) string {
	if name == "" {
		name = s.rt.nextName("alarm")
	}
	if s.Destroyed() {
		return name
	}
	act := &action{svc: s, kind: actAlarm, name: name, fn: fn, index: -1}
	s.add(act)
	act.arm(at)
	return name
}

// CancelAlarm cancels a pending alarm; it reports whether one was pending.
func (s *Service) CancelAlarm(name string) bool { return s.cancel(actAlarm, name) }

// CancelAllAlarms cancels every pending alarm.
func (s *Service) CancelAllAlarms() { s.cancelMatching(actAlarm, "*") }

// AlarmPending reports whether an alarm of that name is pending.
func (s *Service) AlarmPending(name string) bool { return s.alarms[name] != nil }

// ScheduleAction runs fn(name) soon, as a job of the given kind. Names
// work as for StartTimer and share one table with cron actions.
func (s *Service) ScheduleAction(kind JobKind, name string, fn func(name string)) (string, error) {
	if kind < IdleJob || kind > PriorityJob {
		return "", fmt.Errorf("runtime: unknown job kind %d", kind)
	}
	if name == "" {
		name = s.rt.nextName("action")
	}
	if s.Destroyed() {
		return name, nil
	}
	act := &action{svc: s, kind: actJob, name: name, fn: fn, index: -1}
	s.add(act)
	a := s.agent
	switch kind {
	case PriorityJob:
		a.priority = append(a.priority, act)
	case IdleJob:
		if len(a.idle) >= 2*a.idleLive+64 {
			a.idle = slices.DeleteFunc(a.idle, func(x *action) bool { return !x.current() })
			a.idleLive = len(a.idle)
		}
		a.idle = append(a.idle, act)
	default:
		act.post()
	}
	return name, nil
}

// ScheduleCron runs fn(name) at every time that matches the five-field
// cron spec (local time), until cancelled. An invalid spec is an error.
func (s *Service) ScheduleCron(spec string, name string, fn func(name string)) (string, error) {
	sched, err := cron.Parse(spec)
	if err != nil {
		return "", err
	}
	if name == "" {
		name = s.rt.nextName("action")
	}
	if s.Destroyed() {
		return name, nil
	}
	act := &action{svc: s, kind: actCron, name: name, fn: fn, sched: sched, index: -1}
	s.add(act)
	act.armCron(time.Now())
	return name, nil
}

// CancelAction cancels a pending job or cron action.
func (s *Service) CancelAction(name string) bool { return s.cancel(actJob, name) }

// CancelAllActions cancels every pending job and cron action.
func (s *Service) CancelAllActions() { s.cancelMatching(actJob, "*") }

// ActionPending reports whether a job or cron action of that name is pending.
func (s *Service) ActionPending(name string) bool { return s.actions[name] != nil }

func (s *Service) cancel(k actionKind, name string) bool {
	t := s.table(k)
	act := (*t)[name]
	if act == nil {
		return false
	}
	act.stopTimer()
	delete(*t, name)
	return true
}

func (s *Service) cancelMatching(k actionKind, pattern string) {
	p := subject.Compile(pattern)
	t := s.table(k)
	for name, act := range *t {
		if p.Match(name) {
			act.stopTimer()
			delete(*t, name)
		}
	}
}

func (s *Service) cancelAllKinds() {
	for _, k := range []actionKind{actTimer, actAlarm, actJob} {
		s.cancelMatching(k, "*")
	}
}
