package luabind

import (
	"fmt"
	goruntime "runtime"

	"github.com/agentd/agentd/runtime"
	lua "github.com/yuin/gopher-lua"
)

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
