package luabind

import (
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/agentd/agentd/runtime"
	lua "github.com/yuin/gopher-lua"
)

// stateKey is where a state finds itself in its Lua registry.
const stateKey = "agentd.state"

// state is one Lua state, the one of a script's agent. Only the agent's
// owner goroutine touches it.
type state struct {
	h     *Host
	sc    *Script
	L     *lua.LState
	agent *runtime.Agent
	log   *slog.Logger
	lim   *limiter

	svcs      []*svc // the services the state created, in order (destroyed ones are pruned now and then)
	svcsLive  int    // len(svcs) after the last pruning
	pending   []*svc // created inside a callback: registered when it returns
	loading   bool   // the main chunk is running
	reloading bool   // a new version not yet committed: its services are held
	// snapshotting: a snapshot hook runs (it may not destroy its service)
	snapshotting bool

	retired    bool        // replaced by a new version; finishing its work
	drainTimer *time.Timer // ends the drain of a retired state

	cos     map[*lua.LState]*co // callback coroutines, running, parked or idle
	free    []*co               // idle callback coroutines
	pfree   []pooled            // idle pcall coroutines
	running *lua.LState         // the thread running Lua now (nil: none)
	depth   int                 // nesting of callback runs
	chain   []link              // the threads running now, innermost last (nesting.go)
	parked  map[*lua.LState]*co // the script's coroutines waiting in self:call, and their callback

	bindings     map[*runtime.Binding]*lua.LUserData
	bindingsSeen int
	loaded       map[string]lua.LValue // require cache
	methods      *lua.LTable           // per-state method table (holds call)
	agentd       *lua.LTable
	body         *lua.LFunction // the callback coroutine body from the preamble
	conv         converter      // Lua ↔ Go values of reports, requests and results
	closed       bool
}

// registerPending registers services created inside callbacks and runs
// their init hooks.
func (st *state) registerPending() {
	for len(st.pending) > 0 {
		batch := st.pending
		st.pending = nil
		var registered []*svc
		for _, sv := range batch {
			if sv.rs.Destroyed() {
				continue // destroyed by the callback that created it
			}
			if err := sv.rs.Register(); err != nil {
				st.log.Error("registering service failed", "service", sv.rs.Binding().Name(), "error", err)
				continue
			}
			registered = append(registered, sv)
		}
		for _, sv := range registered {
			st.hook(sv, "init", lua.LNil)
		}
	}
}

// hook calls sv's hook of that name, if it defines one.
func (st *state) hook(sv *svc, name string, args ...lua.LValue) {
	fn, ok := st.L.GetField(sv.tbl, name).(*lua.LFunction)
	if !ok {
		return
	}
	full := make([]lua.LValue, 0, len(args)+1)
	full = append(full, sv.tbl)
	full = append(full, args...)
	st.call(sv, name, fn, full...)
}

// stateOf finds the state of any thread.
func stateOf(L *lua.LState) *state {
	if ud, ok := L.G.Registry.RawGetString(stateKey).(*lua.LUserData); ok {
		if st, ok := ud.Value.(*state); ok {
			return st
		}
	}
	L.RaiseError("agentd: this Lua state is not an agent")
	return nil
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

	st.openLibraries(h.currentSandbox())

	if h.wd != nil {
		st.lim = newLimiter()
		L.SetContext(st.lim)
		h.wd.add(st.lim)
	}
	st.installPreamble()
	st.installViewIteration()

	g := L.G.Global
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

// runChunk runs the main chunk with a protected call.
func (st *state) runChunk(proto *lua.FunctionProto) error {
	L := st.L
	L.Push(L.NewFunctionFromProto(proto))
	st.running = L
	if st.lim != nil {
		st.lim.begin()
	}
	err := L.PCall(0, 0, nil)
	if st.lim != nil {
		st.lim.end()
	}
	st.running = nil
	if err == nil {
		return nil
	}
	var ae *lua.ApiError
	if !errors.As(err, &ae) {
		return &ScriptError{File: st.sc.display, Msg: err.Error()}
	}
	msg := errorText(ae.Object)
	se := &ScriptError{File: st.sc.display, Msg: msg, Traceback: ae.StackTrace}
	if se.Msg == callstackOverflow {
		se.Msg = overflowMessage
	}
	if line, rest, ok := splitWhere(msg, st.sc.display); ok {
		se.Line, se.Msg = line, rest
	} else if m := traceLine(ae.StackTrace, st.sc.display); m > 0 {
		se.Line = m
	}
	return se
}

// close releases the Lua state.
func (st *state) close() {
	if st.closed {
		return
	}
	st.closed = true
	if st.lim != nil {
		st.h.wd.remove(st.lim)
	}
	st.L.Close()
}
