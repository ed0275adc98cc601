package luabind

import (
	"math"
	"time"

	"github.com/agentd/agentd/runtime"
	lua "github.com/yuin/gopher-lua"
)

// serviceMethods are the methods of every service object, except call,
// which each state builds from the preamble.
func serviceMethods() map[string]lua.LGFunction {
	m := map[string]lua.LGFunction{
		// identity: the same methods as a binding
		"serviceName":     func(L *lua.LState) int { return pushStr(L, self(L).rs.Binding().Name()) },
		"serviceAudience": func(L *lua.LState) int { return pushStr(L, self(L).rs.Binding().Audience()) },
		"agentIdentity":   func(L *lua.LState) int { return pushStr(L, self(L).rs.Binding().Identity()) },
		"processIdentity": func(L *lua.LState) int { return pushStr(L, self(L).rs.Binding().ProcessIdentity()) },
		"serviceAddress":  func(L *lua.LState) int { return pushStr(L, self(L).rs.Binding().Address()) },
		"serviceLocation": func(L *lua.LState) int {
			L.Push(lua.LNumber(self(L).rs.Binding().Location()))
			return 1
		},
		"serviceGroups": func(L *lua.LState) int { return pushStrings(L, self(L).rs.Groups()) },
		"serviceBinding": func(L *lua.LState) int {
			sv := self(L)
			L.Push(sv.st.bindingUD(sv.rs.Binding()))
			return 1
		},
		"destroyService": func(L *lua.LState) int {
			sv := self(L)
			if sv.st.snapshotting {
				L.RaiseError("destroyService: a service cannot be destroyed in snapshot (the reload would be refused and the service lost)")
			}
			sv.rs.Destroy()
			if sv.rs.Destroyed() {
				sv.st.forgetParked(sv)
			}
			return 0
		},

		// timers, alarms and actions
		"startTimer": func(L *lua.LState) int {
			sv, fn := self(L), checkFn(L, 2)
			delay := seconds(L, 3, L.CheckNumber(3))
			name := sv.rs.StartTimer(delay, optName(L, 4), func(name string) {
				sv.st.call(sv, "timer "+name, fn, sv.tbl, lua.LString(name))
			})
			return pushStr(L, name)
		},
		"cancelTimer": func(L *lua.LState) int {
			L.Push(lua.LBool(self(L).rs.CancelTimer(L.CheckString(2))))
			return 1
		},
		"cancelAllTimers": func(L *lua.LState) int {
			self(L).rs.CancelAllTimers(L.OptString(2, "*"))
			return 0
		},
		"timerPending": func(L *lua.LState) int {
			L.Push(lua.LBool(self(L).rs.TimerPending(L.CheckString(2))))
			return 1
		},
		"setAlarm": func(L *lua.LState) int {
			sv, fn := self(L), checkFn(L, 2)
			at := epoch(L, 3, L.CheckNumber(3))
			name := sv.rs.SetAlarm(at, optName(L, 4), func(name string) {
				sv.st.call(sv, "alarm "+name, fn, sv.tbl, lua.LString(name))
			})
			return pushStr(L, name)
		},
		"cancelAlarm": func(L *lua.LState) int {
			L.Push(lua.LBool(self(L).rs.CancelAlarm(L.CheckString(2))))
			return 1
		},
		"cancelAllAlarms": func(L *lua.LState) int {
			self(L).rs.CancelAllAlarms()
			return 0
		},
		"alarmPending": func(L *lua.LState) int {
			L.Push(lua.LBool(self(L).rs.AlarmPending(L.CheckString(2))))
			return 1
		},
		"scheduleAction": func(L *lua.LState) int {
			sv, fn := self(L), checkFn(L, 2)
			cb := func(name string) { sv.st.call(sv, "action "+name, fn, sv.tbl, lua.LString(name)) }
			var name string
			var err error
			switch kind := L.Get(3).(type) {
			case *lua.LNilType:
				name, err = sv.rs.ScheduleAction(runtime.StandardJob, optName(L, 4), cb)
			case lua.LNumber:
				k := runtime.JobKind(kind)
				if float64(kind) != float64(k) || k < runtime.IdleJob || k > runtime.PriorityJob {
					L.ArgError(3, "unknown job kind "+lua.LVAsString(kind)+" (want IDLE_JOB, STANDARD_JOB, PRIORITY_JOB or a cron string)")
				}
				name, err = sv.rs.ScheduleAction(k, optName(L, 4), cb)
			case lua.LString:
				name, err = sv.rs.ScheduleCron(string(kind), optName(L, 4), cb)
			default:
				L.ArgError(3, "expected IDLE_JOB, STANDARD_JOB, PRIORITY_JOB or a cron string")
			}
			if err != nil {
				L.RaiseError("scheduleAction: %s", err.Error())
			}
			return pushStr(L, name)
		},
		"cancelAction": func(L *lua.LState) int {
			L.Push(lua.LBool(self(L).rs.CancelAction(L.CheckString(2))))
			return 1
		},
		"cancelAllActions": func(L *lua.LState) int {
			self(L).rs.CancelAllActions()
			return 0
		},
		"actionPending": func(L *lua.LState) int {
			L.Push(lua.LBool(self(L).rs.ActionPending(L.CheckString(2))))
			return 1
		},
		"subscribeShutdown": func(L *lua.LState) int {
			sv, fn := self(L), checkFn(L, 2)
			sv.rs.SubscribeShutdown(func(p runtime.ShutdownPhase) {
				sv.st.call(sv, "shutdown", fn, sv.tbl, lua.LNumber(p))
			})
			return 0
		},
		"unsubscribeShutdown": func(L *lua.LState) int {
			self(L).rs.UnsubscribeShutdown()
			return 0
		},

		// registry
		"joinGroup": func(L *lua.LState) int {
			g := L.CheckString(2)
			if g == "" {
				L.ArgError(2, "group name must not be empty")
			}
			_ = self(L).rs.JoinGroup(g)
			return 0
		},
		"leaveGroup": func(L *lua.LState) int {
			self(L).rs.LeaveGroup(L.CheckString(2))
			return 0
		},
		"subscribeRegistry": func(L *lua.LState) int {
			sv, fn := self(L), checkFn(L, 2)
			sv.rs.SubscribeRegistry(sv.registryCallback("registry", fn, true))
			return 0
		},
		"unsubscribeRegistry": func(L *lua.LState) int {
			self(L).rs.UnsubscribeRegistry()
			return 0
		},
		"subscribeServiceName": func(L *lua.LState) int {
			sv, fn := self(L), checkFn(L, 2)
			sv.rs.SubscribeServiceName(L.CheckString(3), sv.registryCallback("service name", fn, false))
			return 0
		},
		"unsubscribeServiceName": func(L *lua.LState) int {
			self(L).rs.UnsubscribeServiceName(L.CheckString(2))
			return 0
		},
		"subscribeServiceGroup": func(L *lua.LState) int {
			sv, fn := self(L), checkFn(L, 2)
			sv.rs.SubscribeServiceGroup(L.CheckString(3), sv.registryCallback("service group", fn, true))
			return 0
		},
		"unsubscribeServiceGroup": func(L *lua.LState) int {
			self(L).rs.UnsubscribeServiceGroup(L.CheckString(2))
			return 0
		},
		"subscribeServiceAddress": func(L *lua.LState) int {
			sv, fn := self(L), checkFn(L, 2)
			sv.rs.SubscribeServiceAddress(address(L, 3), sv.registryCallback("service address", fn, true))
			return 0
		},
		"unsubscribeServiceAddress": func(L *lua.LState) int {
			self(L).rs.UnsubscribeServiceAddress(address(L, 2))
			return 0
		},
		"lookupServiceName": func(L *lua.LState) int {
			sv := self(L)
			return sv.st.pushBindings(L, sv.st.h.rt.LookupServiceName(L.CheckString(2)))
		},
		"lookupServiceGroup": func(L *lua.LState) int {
			sv := self(L)
			return sv.st.pushBindings(L, sv.st.h.rt.LookupServiceGroup(L.CheckString(2)))
		},
		"lookupServiceAddress": func(L *lua.LState) int {
			sv := self(L)
			if b := sv.st.h.rt.LookupServiceAddress(address(L, 2)); b != nil {
				L.Push(sv.st.bindingUD(b))
			} else {
				L.Push(lua.LNil)
			}
			return 1
		},
		"serviceAgents": func(L *lua.LState) int {
			sv := self(L)
			return sv.st.pushBindings(L, sv.st.h.rt.ServiceAgents())
		},
		"matchSubject": func(L *lua.LState) int { return matchSubject(L, 2) },
	}
	for k, v := range reportMethods() {
		m[k] = v
	}
	for k, v := range requestMethods() {
		m[k] = v
	}
	return m
}

// registryCallback adapts a Lua registry callback: cb(self, binding,
// [group,] status), group nil for service-level events.
func (sv *svc) registryCallback(kind string, fn *lua.LFunction, withGroup bool) runtime.RegistryFunc {
	st := sv.st
	return func(ev runtime.RegistryEvent) {
		b := st.bindingUD(ev.Binding)
		if !withGroup {
			st.call(sv, kind, fn, sv.tbl, b, lua.LNumber(ev.Status))
			return
		}
		var g lua.LValue = lua.LNil
		if ev.Group != "" {
			g = lua.LString(ev.Group)
		}
		st.call(sv, kind, fn, sv.tbl, b, g, lua.LNumber(ev.Status))
	}
}

// address reads argument n as a service address: a string or a binding.
func address(L *lua.LState, n int) string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		return string(v)
	case *lua.LUserData:
		if b, ok := v.Value.(*runtime.Binding); ok {
			return b.Address()
		}
	case *lua.LTable:
		if sv := svcOf(v); sv != nil {
			return sv.rs.Binding().Address()
		}
	}
	L.ArgError(n, "expected a service address or a binding")
	return ""
}

// maxEpoch bounds the seconds since the epoch that setAlarm takes: time
// in nanoseconds fits in 64 bits until 2262.
const maxEpoch = math.MaxInt64 / int64(time.Second)

// epoch reads argument n, seconds since the epoch: a finite number within
// ±maxEpoch (NaN, an infinity or 1e300 would wrap around to the past).
func epoch(L *lua.LState, n int, v lua.LNumber) time.Time {
	sec := float64(v)
	if !(math.Abs(sec) < float64(maxEpoch)) {
		L.ArgError(n, "time out of range")
	}
	whole := int64(sec)
	return time.Unix(whole, int64((sec-float64(whole))*1e9))
}

func pushStr(L *lua.LState, s string) int {
	L.Push(lua.LString(s))
	return 1
}

func pushStrings(L *lua.LState, ss []string) int {
	t := L.CreateTable(len(ss), 0)
	for i, s := range ss {
		t.RawSetInt(i+1, lua.LString(s))
	}
	L.Push(t)
	return 1
}

func (st *state) pushBindings(L *lua.LState, bs []*runtime.Binding) int {
	t := L.CreateTable(len(bs), 0)
	for i, b := range bs {
		t.RawSetInt(i+1, st.bindingUD(b))
	}
	L.Push(t)
	return 1
}
