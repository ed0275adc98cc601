package luabind

import lua "github.com/yuin/gopher-lua"

// installPreamble runs the preamble with this state's primitives and
// installs what it returns.
func (st *state) installPreamble() {
	L, h := st.L, st.h
	coTable := L.GetGlobal("coroutine").(*lua.LTable)
	rawCreate := coTable.RawGetString("create").(*lua.LFunction).GFunction
	create := func(L *lua.LState) int {
		if st.lim == nil {
			return rawCreate(L)
		}
		// A thread made while the creator has a context would get a child
		// context and a goroutine; make it bare and give it the limiter.
		ctx := L.RemoveContext()
		n := rawCreate(L)
		L.SetContext(ctx)
		L.Get(-1).(*lua.LState).SetContext(st.lim)
		return n
	}
	// acquire(body) returns a pooled pcall coroutine, its slot table and
	// whether it is fresh (not yet started: its first resume passes the slot).
	acquire := func(L *lua.LState) int {
		if n := len(st.pfree); n > 0 {
			p := st.pfree[n-1]
			st.pfree = st.pfree[:n-1]
			L.Push(p.th)
			L.Push(p.slot)
			L.Push(lua.LFalse)
			return 3
		}
		create(L)
		L.Push(L.CreateTable(1, 0))
		L.Push(lua.LTrue)
		return 3
	}
	release := func(L *lua.LState) int {
		th, ok1 := L.Get(1).(*lua.LState)
		slot, ok2 := L.Get(2).(*lua.LTable)
		if ok1 && ok2 && len(st.pfree) < 16 {
			slot.RawSetInt(1, lua.LNil)
			st.pfree = append(st.pfree, pooled{th, slot})
		}
		return 0
	}
	clean := func(L *lua.LState) int {
		v := L.Get(1)
		if s, ok := v.(lua.LString); ok {
			v = lua.LString(stripPreamble(string(s)))
		}
		L.Push(v)
		return 1
	}
	setpanic := func(L *lua.LState) int {
		L.Panic = st.panicHook
		return 0
	}
	rawResume := coTable.RawGetString("resume").(*lua.LFunction).GFunction
	rawStatus := coTable.RawGetString("status").(*lua.LFunction).GFunction
	prims := L.CreateTable(0, 14)
	for name, v := range map[string]lua.LValue{
		"setpanic": L.NewFunction(setpanic), "DONE": h.done, "MARK": h.mark, "rawcall": L.NewFunction(rawcall),
		"create": L.NewFunction(create), "acquire": L.NewFunction(acquire), "release": L.NewFunction(release),
		"presume": L.NewFunction(st.resumer(linkPcall, false, rawResume)),
		"sresume": L.NewFunction(st.resumer(linkScript, false, rawResume)),
		"aresume": L.NewFunction(st.resumer(linkScript, true, rawResume)),
		"yield":   coTable.RawGetString("yield"), "status": coTable.RawGetString("status"),
		"error": L.GetGlobal("error"), "clean": L.NewFunction(clean),
	} {
		prims.RawSetString(name, v)
	}
	L.Push(L.NewFunctionFromProto(h.preamble))
	L.Push(prims)
	L.Call(1, 1)
	made := L.Get(-1).(*lua.LTable)
	L.Pop(1)
	st.body = made.RawGetString("body").(*lua.LFunction)
	L.SetGlobal("pcall", made.RawGetString("pcall"))
	L.SetGlobal("xpcall", made.RawGetString("xpcall"))
	coTable.RawSetString("resume", made.RawGetString("resume"))
	coTable.RawSetString("wrap", made.RawGetString("wrap"))
	coTable.RawSetString("create", L.NewFunction(create))
	coTable.RawSetString("running", L.NewFunction(st.coRunning))
	coTable.RawSetString("status", L.NewFunction(st.coStatus(rawStatus)))
	st.methods = L.CreateTable(0, 1)
	st.methods.RawSetString("call", made.RawGetString("call"))
	st.methods.Metatable = h.stateMT
}

// pooled is an idle pcall coroutine and its slot table.
type pooled struct {
	th   *lua.LState
	slot *lua.LTable
}
