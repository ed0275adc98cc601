package luabind

import (
	"time"

	"github.com/agentd/agentd/runtime"
	lua "github.com/yuin/gopher-lua"
)

// bindingGrace is how long a withdrawn binding keeps its userdata.
const bindingGrace = time.Minute

// bindingUD returns the state's userdata for b: one per binding, so that
// bindings compare equal with == (they also have __eq).
func (st *state) bindingUD(b *runtime.Binding) *lua.LUserData {
	if ud := st.bindings[b]; ud != nil {
		return ud
	}
	if len(st.bindings) > 2*st.bindingsSeen+64 {
		// forget bindings withdrawn long ago: their last events (the
		// withdrawal, group leaves) have been delivered by now, and a
		// script keying a table by a binding saw them with this userdata
		for k := range st.bindings {
			if at := k.WithdrawnAt(); !at.IsZero() && time.Since(at) > bindingGrace {
				delete(st.bindings, k)
			}
		}
		st.bindingsSeen = len(st.bindings)
	}
	ud := st.L.NewUserData()
	ud.Value = b
	ud.Metatable = st.h.bindingMT
	st.bindings[b] = ud
	return ud
}

func checkBinding(L *lua.LState) *runtime.Binding {
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if b, ok := ud.Value.(*runtime.Binding); ok {
			return b
		}
	}
	L.ArgError(1, "expected a binding (call binding methods with ':')")
	return nil
}

func bindingMethods() map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"serviceName":     func(L *lua.LState) int { return pushStr(L, checkBinding(L).Name()) },
		"serviceAudience": func(L *lua.LState) int { return pushStr(L, checkBinding(L).Audience()) },
		"agentIdentity":   func(L *lua.LState) int { return pushStr(L, checkBinding(L).Identity()) },
		"processIdentity": func(L *lua.LState) int { return pushStr(L, checkBinding(L).ProcessIdentity()) },
		"serviceAddress":  func(L *lua.LState) int { return pushStr(L, checkBinding(L).Address()) },
		"serviceLocation": func(L *lua.LState) int {
			L.Push(lua.LNumber(checkBinding(L).Location()))
			return 1
		},
		"serviceGroups": func(L *lua.LState) int { return pushStrings(L, checkBinding(L).Groups()) },
		"serviceWithdrawn": func(L *lua.LState) int {
			L.Push(lua.LBool(checkBinding(L).Withdrawn()))
			return 1
		},
	}
}

// bindingEq compares bindings by agent identity: a remote service that
// reappears (after a lost connection) is the same agent with a new binding.
func bindingEq(L *lua.LState) int {
	a, _ := L.Get(1).(*lua.LUserData)
	b, _ := L.Get(2).(*lua.LUserData)
	var x, y *runtime.Binding
	if a != nil {
		x, _ = a.Value.(*runtime.Binding)
	}
	if b != nil {
		y, _ = b.Value.(*runtime.Binding)
	}
	L.Push(lua.LBool(x != nil && y != nil && (x == y || x.Identity() == y.Identity())))
	return 1
}

func bindingString(L *lua.LState) int { return pushStr(L, checkBinding(L).Name()) }

func endpointString(L *lua.LState) int {
	ud := L.CheckUserData(1)
	if ep, ok := ud.Value.(*endpoint); ok {
		return pushStr(L, ep.b.Name())
	}
	return pushStr(L, "endpoint")
}

func failureString(L *lua.LState) int {
	ud := L.CheckUserData(1)
	if f, ok := ud.Value.(*runtime.Failure); ok {
		return pushStr(L, f.Error())
	}
	return pushStr(L, "failure")
}
