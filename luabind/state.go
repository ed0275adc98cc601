package luabind

import (
	"fmt"
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

// co is one callback coroutine and what it is running.
type co struct {
	L       *lua.LState
	slot    *lua.LTable // slot[1] is the function the coroutine's loop calls next
	started bool
	sv      *svc
	kind    string // what the callback is, for logs

	report    runtime.Report
	content   lua.LValue // the content handed to the report callback
	hasReport bool
	req       *runtime.Request
	suspended bool
	waiting   bool // parked in call

	trace  []frame
	onDone func(c *co, rets []lua.LValue, errv lua.LValue)
}

type frame struct {
	source string
	line   int
	name   string
}

const maxFrames = 24

// acquire returns an idle callback coroutine, set up for sv.
func (st *state) acquire(sv *svc, kind string) *co {
	var c *co
	if n := len(st.free); n > 0 {
		c = st.free[n-1]
		st.free = st.free[:n-1]
	} else {
		c = &co{L: st.newThread(), slot: st.L.CreateTable(1, 0)}
		st.cos[c.L] = c
	}
	c.sv, c.kind = sv, kind
	return c
}

// release makes a finished coroutine idle again.
func (st *state) release(c *co) {
	c.slot.RawSetInt(1, lua.LNil)
	*c = co{L: c.L, slot: c.slot, started: c.started}
	if len(st.free) < 16 {
		st.free = append(st.free, c)
	} else {
		delete(st.cos, c.L)
	}
}

// forgetParked drops sv's coroutines parked in call once sv is destroyed:
// their answers will be ignored, so they could never resume.
func (st *state) forgetParked(sv *svc) {
	for L, c := range st.cos {
		if c.sv == sv && c.waiting {
			delete(st.cos, L)
			st.forgetParkedScripts(c)
		}
	}
}

// drop forgets a coroutine that cannot run again (it failed or misbehaved).
func (st *state) drop(c *co) { delete(st.cos, c.L) }

// newThread makes a Lua thread of this state that shares its limiter but
// not a derived context (which would cost a goroutine per thread).
func (st *state) newThread() *lua.LState {
	var ctx = st.L.RemoveContext()
	th, _ := st.L.NewThread()
	if st.lim != nil {
		st.L.SetContext(ctx)
		th.SetContext(st.lim)
	}
	return th
}

// call runs fn(args...) as a callback of sv in a coroutine.
func (st *state) call(sv *svc, kind string, fn lua.LValue, args ...lua.LValue) {
	if st.closed {
		return
	}
	c := st.acquire(sv, kind)
	st.start(c, fn, args...)
}

// start runs fn(args...) in c: the coroutine's loop calls slot[1].
func (st *state) start(c *co, fn lua.LValue, args ...lua.LValue) {
	c.slot.RawSetInt(1, fn)
	if !c.started {
		full := make([]lua.LValue, 0, len(args)+1)
		full = append(full, c.slot)
		st.step(c, append(full, args...)...)
		return
	}
	st.step(c, args...)
}

// resumeParked continues a coroutine parked in call with the answer.
func (st *state) resumeParked(c *co, args ...lua.LValue) {
	if st.closed || !c.waiting {
		return
	}
	c.waiting = false
	st.step(c, args...)
}

// step resumes c once and deals with how it stopped. A coroutine that has
// not started yet begins with the callback body (args must then begin
// with its slot).
func (st *state) step(c *co, args ...lua.LValue) {
	parent := st.running
	if parent == nil {
		parent = st.L
	}
	prev := st.running
	st.running = c.L
	st.depth++
	if st.lim != nil {
		st.lim.begin()
	}
	var fn *lua.LFunction
	if !c.started {
		c.started = true
		fn = st.body
	}
	st.chain = append(st.chain, link{c.L, linkCallback})
	rs, err, vals := parent.Resume(c.L, fn, args...)
	st.popLink()
	if st.lim != nil {
		st.lim.end()
	}
	st.depth--
	st.running = prev

	switch {
	case rs == lua.ResumeYield && len(vals) > 0 && vals[0] == st.h.done:
		if c.onDone != nil {
			c.onDone(c, vals[1:], nil)
		}
		st.release(c)
	case rs == lua.ResumeYield && len(vals) > 0 && vals[0] == st.h.mark:
		// parked in call: the answer resumes it
	case rs == lua.ResumeYield:
		c.trace = traceback(c.L) // suspended, so its stack is still there
		st.drop(c)
		st.fail(c, lua.LString(traceWhere(c.trace)+"attempt to yield from outside a coroutine (coroutine.yield in a callback)"))
	default:
		st.drop(c)
		var errv lua.LValue = lua.LString("callback ended unexpectedly")
		if ae, ok := err.(*lua.ApiError); ok {
			errv = ae.Object
		} else if err != nil {
			errv = lua.LString(err.Error())
		}
		if errv == lua.LString(callstackOverflow) {
			// a Go panic in gopher-lua: no position, no trace; the dead
			// thread still has its frames
			c.trace = traceback(c.L)
			errv = lua.LString(traceWhere(c.trace) + overflowMessage)
		}
		st.fail(c, errv)
	}
	if st.depth == 0 && len(st.pending) > 0 && !st.reloading {
		st.registerPending()
	}
	if st.retired && st.depth == 0 && !st.busy() {
		st.finish()
	}
}

// fail handles a callback that raised errv: a request method answers its
// request with the failure; anything else is logged and counted.
func (st *state) fail(c *co, errv lua.LValue) {
	if c.onDone != nil {
		c.onDone(c, nil, errv)
		return
	}
	st.h.rt.CountCallbackError()
	attrs := []any{"callback", c.kind, "error", errorText(errv)}
	if c.sv != nil {
		attrs = append(attrs, "service", c.sv.rs.Binding().Name())
	}
	if w := firstLuaFrame(c.trace); w != nil {
		attrs = append(attrs, "line", fmt.Sprintf("%s:%d", w.source, w.line))
	}
	if len(c.trace) > 0 {
		attrs = append(attrs, "traceback", formatTrace(c.trace))
	}
	st.log.Error("callback failed", attrs...)
}

// panicHook replaces gopher-lua's panic function on callback coroutines:
// it records the Lua stack while it still exists, then raises as usual.
func (st *state) panicHook(L *lua.LState) {
	if c := st.cos[L]; c != nil {
		c.trace = traceback(L)
	}
	panic(&lua.ApiError{Type: lua.ApiErrorRun, Object: L.Get(-1)})
}

func traceback(L *lua.LState) []frame {
	var out []frame
	for level := 0; len(out) < maxFrames; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sln", dbg, lua.LNil); err != nil {
			break
		}
		name := dbg.Name
		if name == "" {
			name = "?"
		}
		out = append(out, frame{source: dbg.Source, line: dbg.CurrentLine, name: name})
	}
	return out
}

// traceWhere returns "file:line: " of the first script frame of fs, or "".
func traceWhere(fs []frame) string {
	if w := firstLuaFrame(fs); w != nil {
		return fmt.Sprintf("%s:%d: ", w.source, w.line)
	}
	return ""
}

func firstLuaFrame(fs []frame) *frame {
	for i := range fs {
		if fs[i].line > 0 && fs[i].source != preambleName {
			return &fs[i]
		}
	}
	return nil
}

func formatTrace(fs []frame) string {
	var b strings.Builder
	b.WriteString("stack traceback:")
	for _, f := range fs {
		if f.source == preambleName {
			continue
		}
		if f.line > 0 {
			fmt.Fprintf(&b, "\n\t%s:%d: in function '%s'", f.source, f.line, f.name)
		} else {
			fmt.Fprintf(&b, "\n\t[Go]: in function '%s'", f.name)
		}
	}
	return b.String()
}

// errorText describes an error value: a string as is, a failure by its
// fields, anything else by its type.
func errorText(v lua.LValue) string {
	switch v := v.(type) {
	case lua.LString:
		return stripPreamble(string(v))
	case *lua.LTable:
		if code, ok := v.RawGetString("error").(lua.LNumber); ok {
			return fmt.Sprintf("uncaught failure %d (%s) from %s: %s", int(code),
				lua.LVAsString(v.RawGetString("description")), lua.LVAsString(v.RawGetString("origin")),
				lua.LVAsString(v.RawGetString("details")))
		}
	case *lua.LUserData:
		if f, ok := v.Value.(*runtime.Failure); ok {
			return "abortResponse outside a request: " + f.Error()
		}
	}
	return "error object is a " + v.Type().String() + " value"
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

// rootCo returns the callback coroutine that L runs in (L itself, or one
// of the coroutines that resumed it), or nil outside callbacks.
func (st *state) rootCo(L *lua.LState) *co {
	for t := L; t != nil; t = t.Parent {
		if c := st.cos[t]; c != nil {
			return c
		}
	}
	return nil
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
