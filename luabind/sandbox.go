package luabind

import (
	lua "github.com/yuin/gopher-lua"
)

// Lua state options: a trimmed state (~41 KiB) whose value stack and call
// stack grow on demand. CallStackSize bounds recursion depth.
var stateOptions = lua.Options{
	CallStackSize:       200,
	RegistrySize:        128,
	RegistryMaxSize:     256 * 1024,
	MinimizeStackMemory: true,
	SkipOpenLibs:        true,
}

// openLibraries opens the libraries scripts get and removes what the
// sandbox sb does not grant: base without dofile and loadfile, table,
// string, math, coroutine, and os with only clock, date, difftime, getenv
// and time; io and os.remove, os.rename, os.tmpname with AllowIO;
// os.execute and io.popen with AllowExec. The builtins that can allocate
// without bound are replaced by bounded ones (limits.go).
func (st *state) openLibraries(sb Sandbox) {
	L := st.L
	st.h.openLibs(L)
	if sb.AllowIO {
		L.Push(L.NewFunction(lua.OpenIo))
		L.Push(lua.LString(lua.IoLibName))
		L.Call(1, 0)
		if !sb.AllowExec {
			L.GetGlobal("io").(*lua.LTable).RawSetString("popen", lua.LNil)
		}
	}
	st.installLimits()
	g := L.G.Global
	for _, name := range []string{"dofile", "loadfile", "module", "_printregs"} {
		g.RawSetString(name, lua.LNil)
	}
	keep := map[string]bool{"clock": true, "date": true, "difftime": true, "getenv": true, "time": true}
	if sb.AllowIO {
		keep["remove"], keep["rename"], keep["tmpname"] = true, true, true
	}
	if sb.AllowExec {
		keep["execute"] = true
	}
	osTable := L.GetGlobal("os").(*lua.LTable)
	osTable.RawSetString("date", L.NewFunction(osDate))
	for _, k := range []string{"clock", "date", "difftime", "getenv", "time", "exit", "execute", "remove", "rename", "setenv", "setlocale", "tmpname"} {
		if !keep[k] {
			osTable.RawSetString(k, lua.LNil)
		}
	}

}
