package luabind

import (
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"

	"github.com/agentd/agentd/runtime"
	lua "github.com/yuin/gopher-lua"
	luar "layeh.com/gopher-luar"
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

// newState builds the sandboxed Lua state of a script's agent.
func (h *Host) newState(sc *Script, agent *runtime.Agent) *state {
	L := lua.NewState(stateOptions)
	st := &state{
		h:        h,
		sc:       sc,
		L:        L,
		agent:    agent,
		log:      h.log.With(append([]any{"script", sc.display}, sc.opts.LogAttrs...)...),
		cos:      make(map[*lua.LState]*co),
		parked:   make(map[*lua.LState]*co),
		bindings: make(map[*runtime.Binding]*lua.LUserData),
		loaded:   make(map[string]lua.LValue),
	}
	self := L.NewUserData()
	self.Value = st
	L.G.Registry.RawSetString(stateKey, self)

	h.openLibs(L)
	sb := h.currentSandbox()
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

	if h.wd != nil {
		st.lim = newLimiter()
		L.SetContext(st.lim)
		h.wd.add(st.lim)
	}
	st.installPreamble()
	st.installViewIteration()

	g.RawSetString("print", L.NewFunction(st.print))
	g.RawSetString("require", L.NewFunction(st.require))
	cfg := sc.configTable()
	if cfg == nil {
		cfg = map[string]any{}
	}
	st.agentd = L.CreateTable(0, 1)
	st.agentd.RawSetString("config", ToLua(L, cfg))
	st.agentd.Metatable = h.agentdMT
	g.RawSetString("agentd", st.agentd)
	return st
}

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
	L.Push(L.NewFunctionFromProto(h.preamble))
	for _, v := range []lua.LValue{
		L.NewFunction(setpanic), h.done, h.mark, L.NewFunction(rawcall),
		L.NewFunction(create), L.NewFunction(acquire), L.NewFunction(release),
		L.NewFunction(st.resumer(linkPcall, false, rawResume)),
		L.NewFunction(st.resumer(linkScript, false, rawResume)),
		L.NewFunction(st.resumer(linkScript, true, rawResume)),
		coTable.RawGetString("yield"), coTable.RawGetString("status"),
		L.GetGlobal("error"), L.NewFunction(clean),
	} {
		L.Push(v)
	}
	L.Call(14, 6)
	st.body = L.Get(-6).(*lua.LFunction)
	L.SetGlobal("pcall", L.Get(-5))
	L.SetGlobal("xpcall", L.Get(-4))
	coTable.RawSetString("resume", L.Get(-3))
	coTable.RawSetString("wrap", L.Get(-2))
	coTable.RawSetString("create", L.NewFunction(create))
	coTable.RawSetString("running", L.NewFunction(st.coRunning))
	coTable.RawSetString("status", L.NewFunction(st.coStatus(rawStatus)))
	st.methods = L.CreateTable(0, 1)
	st.methods.RawSetString("call", L.Get(-1))
	st.methods.Metatable = h.stateMT
	L.Pop(6)
}

// print writes its arguments, tab-separated, as one line of at most
// alloc_limit bytes.
func (st *state) print(L *lua.LState) int {
	parts := make([]string, L.GetTop())
	size := float64(len(parts))
	for i := range parts {
		parts[i] = L.ToStringMeta(L.Get(i + 1)).String()
		size += float64(len(parts[i]))
	}
	if size > float64(st.h.opts.AllocLimit) {
		st.tooLarge(L, "print", size)
	}
	var b strings.Builder
	b.Grow(int(size) + 1)
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('\t')
		}
		b.WriteString(p)
	}
	b.WriteByte('\n')
	st.h.print(b.String())
	return 0
}

// loadingModule marks a module whose chunk is running, to catch cycles.
var loadingModule = &lua.LUserData{}

// require loads a module: "agentd", a Go module given in Options.Modules,
// a Lua file found in the script's module folders (by default its own
// folder; a.b → a/b.lua or a/b/init.lua), or a Lua module bundled through
// Options.LuaModules. A module's chunk runs once per state; its result
// (true if it returns nothing) is cached.
func (st *state) require(L *lua.LState) int {
	name := L.CheckString(1)
	if v, ok := st.loaded[name]; ok {
		if v == loadingModule {
			L.RaiseError("require: module %q requires itself (a cycle)", name)
		}
		L.Push(v)
		return 1
	}
	if name == "agentd" {
		L.Push(st.agentd)
		return 1
	}
	if v, ok := st.h.opts.Modules[name]; ok {
		lv := luar.New(L, v)
		st.loaded[name] = lv
		L.Push(lv)
		return 1
	}
	path, tried := st.findModule(name)
	var proto *lua.FunctionProto
	if path != "" {
		p, sum, err := st.h.compile(path)
		if err != nil {
			L.RaiseError("require: %s", err.Error())
		}
		proto = p
		st.sc.addDep(path, sum)
	} else if p, ok, err := st.h.bundled(name); ok {
		if err != nil {
			L.RaiseError("require: %s", err.Error())
		}
		proto = p
	} else {
		L.RaiseError("require: module %q not found (looked for %s)", name, strings.Join(tried, ", "))
	}
	st.loaded[name] = loadingModule
	ok := false
	defer func() {
		if !ok {
			delete(st.loaded, name)
		}
	}()
	L.Push(L.NewFunctionFromProto(proto))
	L.Push(lua.LString(name))
	L.Call(1, 1)
	v := L.Get(-1)
	L.Pop(1)
	if v == lua.LNil {
		v = lua.LTrue
	}
	st.loaded[name] = v
	ok = true
	L.Push(v)
	return 1
}

// findModule resolves a module name in the script's folder.
func (st *state) findModule(name string) (string, []string) {
	if !validModuleName(name) {
		return "", []string{"nothing: the name must be words joined by dots"}
	}
	rel := filepath.FromSlash(strings.ReplaceAll(name, ".", "/"))
	var tried []string
	for _, dir := range st.sc.searchDirs() {
		for _, cand := range []string{filepath.Join(dir, rel+".lua"), filepath.Join(dir, rel, "init.lua")} {
			tried = append(tried, DisplayPath(cand))
			if fi, err := os.Stat(cand); err == nil && fi.Mode().IsRegular() && st.sc.allowed(cand) {
				return cand, tried
			}
		}
	}
	return "", tried
}

func validModuleName(name string) bool {
	for _, part := range strings.Split(name, ".") {
		if part == "" || part == ".." {
			return false
		}
		for _, r := range part {
			if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false
			}
		}
	}
	return true
}

// pooled is an idle pcall coroutine and its slot table.
type pooled struct {
	th   *lua.LState
	slot *lua.LTable
}

// stripPreamble removes the position of a preamble frame from an error
// message: an error raised by a Go function that the preamble called
// directly (a callback, or a function given to pcall) would otherwise be
// placed in the preamble, where standard Lua, calling from C, places none.
func stripPreamble(msg string) string {
	rest, ok := strings.CutPrefix(msg, preambleName+":")
	if !ok {
		return msg
	}
	if _, text, ok := strings.Cut(rest, ": "); ok {
		return text
	}
	return msg
}

// plainCall reports whether L, a callback coroutine, waits in the most
// common shape: the preamble's call wrapper, called by a Lua function,
// called by the preamble's loop, and nothing below. Each of these calls
// is a plain call in one VM loop (the wrapper cannot be a metamethod:
// service objects' metatables are protected), so the coroutine can yield
// without the Go stack walk of yieldSafe.
func (st *state) plainCall(L *lua.LState) bool {
	if st.cos[L] == nil {
		return false
	}
	frame := func(level int) (what, source string) {
		dbg, ok := L.GetStack(level)
		if !ok {
			return "", ""
		}
		if _, err := L.GetInfo("S", dbg, lua.LNil); err != nil {
			return "", ""
		}
		return dbg.What, dbg.Source
	}
	// level 0 is rawcall itself; the coroutine's bottom frame, the loop,
	// shows as "main" (gopher-lua counts its tail calls on it, and
	// GetStack keeps answering it past the bottom)
	w1, s1 := frame(1)
	w2, s2 := frame(2)
	w3, s3 := frame(3)
	return w1 == "Lua" && s1 == preambleName &&
		w2 == "Lua" && s2 != preambleName &&
		w3 == "main" && s3 == preambleName
}

// yieldSafe reports whether the running Lua code can yield up to its
// callback coroutine. gopher-lua runs metamethods, generic-for iterators,
// functions called by Go functions (string.gsub, table.sort) and module
// chunks in a nested VM loop on the Go stack, and a yield from inside one
// loses its place. So every coroutine between here and the callback must
// be running exactly one VM loop: the Go stack tells.
func yieldSafe() bool {
	// The callback's step is usually six frames up: unwind 8 frames
	// first, and more only for deeper stacks (unwinding costs ~150 ns a
	// frame, and Callers fills the whole buffer).
	var buf [8]uintptr
	for depth := len(buf); depth <= 1<<14; depth *= 8 {
		pcs := buf[:]
		if depth > len(buf) {
			pcs = make([]uintptr, depth)
		}
		n := goruntime.Callers(2, pcs)
		if safe, known := scanFrames(pcs[:n]); known {
			return safe
		}
		if n < len(pcs) {
			return false // the whole stack, and no callback: refuse
		}
	}
	return false // too deep to tell: refuse
}

// scanFrames reads return addresses from the innermost out; known is false
// when the frames end before the callback's step.
func scanFrames(pcs []uintptr) (safe, known bool) {
	loops := 0
	for _, pc := range pcs {
		f := goruntime.FuncForPC(pc - 1) // pc is a return address
		if f == nil {
			continue
		}
		switch f.Name() {
		case "github.com/yuin/gopher-lua.mainLoop", "github.com/yuin/gopher-lua.mainLoopWithContext":
			loops++
		case "github.com/yuin/gopher-lua.threadRun":
			if loops != 1 {
				return false, true
			}
			loops = 0
		case "github.com/agentd/agentd/luabind.(*state).step":
			return loops == 0, true
		}
	}
	return false, false
}
