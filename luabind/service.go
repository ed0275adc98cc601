package luabind

import (
	"math"
	"slices"
	"time"

	"github.com/agentd/agentd/runtime"
	lua "github.com/yuin/gopher-lua"
)

// svc is the Lua side of one service: the table scripts see as the
// service object, and the runtime service behind it.
type svc struct {
	st  *state
	rs  *runtime.Service
	tbl *lua.LTable
}

// newSvc creates a runtime service and its Lua object. The object is a
// plain table for the script's own fields; its protected metatable leads
// to the API methods and to the svc.
func (st *state) newSvc(cfg runtime.ServiceConfig) (*svc, error) {
	rs, err := st.agent.NewService(cfg)
	if err != nil {
		return nil, err
	}
	if st.reloading {
		rs.Hold()
	}
	sv := &svc{st: st, rs: rs, tbl: smallTable(st.L)}
	ud := st.L.NewUserData()
	ud.Value = sv
	mt := st.L.CreateTable(0, 4)
	mt.RawSetString("__index", st.methods)
	mt.RawSetString("__metatable", lua.LString("service"))
	mt.RawSetString("__tostring", st.h.svcMethods.RawGetString("serviceName"))
	mt.RawSetString("__svc", ud)
	sv.tbl.Metatable = mt
	rs.SetHooks(runtime.Hooks{
		Destroy: func() { st.hook(sv, "destroy") },
		Subscription: func(ev runtime.SubscriptionEvent) {
			t := st.L.CreateTable(0, 3)
			t.RawSetString("subscriber", st.bindingUD(ev.Subscriber))
			t.RawSetString("status", lua.LNumber(ev.Status))
			t.RawSetString("pattern", lua.LString(ev.Pattern))
			st.hook(sv, "handleSubscription", t)
		},
		PublisherNotification: func(n runtime.PublisherNotification) {
			t := st.L.CreateTable(0, 3)
			t.RawSetString("publisher", st.bindingUD(n.Publisher))
			t.RawSetString("subscriber", st.bindingUD(n.Subscriber))
			t.RawSetString("status", lua.LNumber(n.Status))
			st.hook(sv, "handlePublisherNotification", t)
		},
		Connection: func(ev runtime.ConnectionEvent) {
			t := st.L.CreateTable(0, 7)
			t.RawSetString("state", lua.LNumber(ev.State))
			t.RawSetString("remoteProcess", lua.LString(ev.RemoteProcess))
			t.RawSetString("remoteAddress", lua.LString(ev.RemoteAddress))
			t.RawSetString("localAddress", lua.LString(ev.LocalAddress))
			t.RawSetString("group", lua.LString(ev.Group))
			t.RawSetString("role", lua.LString(ev.Role))
			t.RawSetString("failed", lua.LBool(ev.Failed))
			st.hook(sv, "handleConnection", t)
		},
		InvalidMethod: func(r *runtime.Request) {
			fn, ok := st.L.GetField(sv.tbl, "invalidMethod").(*lua.LFunction)
			if !ok {
				r.Fail(runtime.NewFailure(runtime.ServerMethodUnavailable, r.Method))
				return
			}
			st.runMethod(sv, fn, r, lua.LString(r.Method))
		},
	})
	if len(st.svcs) >= 2*st.svcsLive+64 {
		// forget destroyed services, so that churn costs nothing lasting
		st.svcs = slices.DeleteFunc(st.svcs, func(x *svc) bool { return x.rs.Destroyed() })
		st.svcsLive = len(st.svcs)
	}
	st.svcs = append(st.svcs, sv)
	return sv, nil
}

// svcOf returns the svc behind a service object, or nil.
func svcOf(v lua.LValue) *svc {
	t, ok := v.(*lua.LTable)
	if !ok {
		return nil
	}
	mt, ok := t.Metatable.(*lua.LTable)
	if !ok {
		return nil
	}
	if ud, ok := mt.RawGetString("__svc").(*lua.LUserData); ok {
		if sv, ok := ud.Value.(*svc); ok {
			return sv
		}
	}
	return nil
}

// self returns the service a method was called on.
func self(L *lua.LState) *svc {
	if sv := svcOf(L.Get(1)); sv != nil {
		return sv
	}
	L.ArgError(1, "expected a service object (call service methods with ':')")
	return nil
}

// checkFn returns argument n, which must be a function.
func checkFn(L *lua.LState, n int) *lua.LFunction {
	if fn, ok := L.Get(n).(*lua.LFunction); ok {
		return fn
	}
	L.ArgError(n, "expected a function, got "+L.Get(n).Type().String())
	return nil
}

// seconds converts a number of seconds (fractions allowed) to a Duration.
func seconds(L *lua.LState, n int, v lua.LNumber) time.Duration {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		L.ArgError(n, "expected a number of seconds >= 0")
	}
	if f > float64(math.MaxInt64)/float64(time.Second) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(f * float64(time.Second))
}

// checkSeconds reads argument n as seconds; def applies when it is absent.
func checkSeconds(L *lua.LState, n int, def time.Duration) time.Duration {
	if L.Get(n) == lua.LNil {
		return def
	}
	return seconds(L, n, L.CheckNumber(n))
}

// optName reads an optional name argument.
func optName(L *lua.LState, n int) string {
	if L.Get(n) == lua.LNil {
		return ""
	}
	return L.CheckString(n)
}

// target reads argument n as a target: a service name, a binding, an
// endpoint or a service object.
func (st *state) target(L *lua.LState, n int) runtime.Target {
	t, msg := toTarget(L.Get(n))
	if msg != "" {
		L.ArgError(n, msg)
	}
	return t
}

// toTarget converts v to a target, or says why it is not one.
func toTarget(v lua.LValue) (runtime.Target, string) {
	switch v := v.(type) {
	case lua.LString:
		if v == "" {
			return runtime.Target{}, "empty service name"
		}
		return runtime.Named(string(v)), ""
	case *lua.LUserData:
		switch x := v.Value.(type) {
		case *runtime.Binding:
			return x.Target(), ""
		case *endpoint:
			return x.b.Target(), ""
		}
	case *lua.LTable:
		if sv := svcOf(v); sv != nil {
			return sv.rs.Binding().Target(), ""
		}
	}
	return runtime.Target{}, "expected a service name or a binding, got " + v.Type().String()
}

// value converts argument n for sending, raising a clear error if it cannot be sent.
func value(L *lua.LState, fname string, n int, root string) any {
	v, err := FromLua(L.Get(n), root)
	if err != nil {
		L.RaiseError("%s: %s", fname, err.Error())
	}
	return v
}

// content converts argument n as report content, a request argument or
// a result: like value, and also refused when its encoded size is over
// the exchange's limit (SetMaxContentSize).
func (st *state) content(L *lua.LState, fname string, n int, root string) any {
	v, verr := st.conv.fromLua(L.Get(n), root)
	if verr != nil {
		L.RaiseError("%s: %s", fname, verr.Error())
	}
	if err := st.h.checkSize(v, root); err != nil {
		L.RaiseError("%s: %s", fname, err.Error())
	}
	return v
}
