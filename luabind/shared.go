package luabind

import (
	lua "github.com/yuin/gopher-lua"
)

// buildShared builds the read-only tables every state uses. They are
// reachable from scripts only through metatables protected with
// __metatable, so scripts can read them (call the methods) but never
// change them, and states on different goroutines can share them.
func (h *Host) buildShared() {
	L := h.tmpl
	funcs := func(m map[string]lua.LGFunction) *lua.LTable {
		t := L.CreateTable(0, len(m))
		for k, f := range m {
			t.RawSetString(k, L.NewFunction(f))
		}
		return t
	}

	h.svcMethods = funcs(serviceMethods())
	h.stateMT = L.CreateTable(0, 2)
	h.stateMT.RawSetString("__index", h.svcMethods)
	h.stateMT.RawSetString("__metatable", lua.LString("service methods"))

	h.bindingMT = L.CreateTable(0, 4)
	h.bindingMT.RawSetString("__index", funcs(bindingMethods()))
	h.bindingMT.RawSetString("__eq", L.NewFunction(bindingEq))
	h.bindingMT.RawSetString("__tostring", L.NewFunction(bindingString))
	h.bindingMT.RawSetString("__metatable", lua.LString("binding"))

	h.endpointMT = L.CreateTable(0, 3)
	h.endpointMT.RawSetString("__index", L.NewFunction(endpointIndex))
	h.endpointMT.RawSetString("__tostring", L.NewFunction(endpointString))
	h.endpointMT.RawSetString("__metatable", lua.LString("endpoint"))

	h.failureMT = L.CreateTable(0, 2)
	h.failureMT.RawSetString("__tostring", L.NewFunction(failureString))
	h.failureMT.RawSetString("__metatable", lua.LString("failure"))

	agentd := funcs(agentdFunctions())
	for k, v := range constants {
		agentd.RawSetString(k, lua.LNumber(v))
	}
	logMT := L.CreateTable(0, 2)
	logMT.RawSetString("__index", funcs(logFunctions()))
	logMT.RawSetString("__metatable", lua.LString("log"))
	log := L.NewUserData()
	log.Metatable = logMT
	agentd.RawSetString("log", log)
	h.viewMT = viewMeta(L)
	h.agentdMT = L.CreateTable(0, 2)
	h.agentdMT.RawSetString("__index", agentd)
	h.agentdMT.RawSetString("__metatable", lua.LString("agentd"))
}
