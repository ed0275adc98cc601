package luabind

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// The chain of resumes: which Lua threads are running now, innermost last.
// A callback coroutine is resumed by the runtime (step); pcall and xpcall
// run the protected function in a pooled coroutine; the script resumes its
// own coroutines. gopher-lua resumes each on the Go stack, so the chain is
// bounded (maxNesting). It also tells the script's coroutines from the
// runtime's: coroutine.running never returns a runtime-owned coroutine, so
// a script cannot keep one and resume it later (that would run a callback
// twice or forge the answer of a self:call).

type linkKind uint8

const (
	linkCallback linkKind = iota // a callback coroutine, resumed by the runtime
	linkPcall                    // a pooled pcall coroutine
	linkScript                   // a coroutine the script created
)

type link struct {
	th   *lua.LState
	kind linkKind
}

// callstackOverflow is gopher-lua's message (a Go panic, with no position)
// when a thread's call stack is full.
const callstackOverflow = "lua callstack overflow"

// overflowMessage replaces callstackOverflow.
var overflowMessage = fmt.Sprintf("stack overflow (Lua calls nested more than %d deep)", stateOptions.CallStackSize)

// resumer returns the primitive that resumes a coroutine of the given kind
// for the preamble (raw is gopher-lua's coroutine.resume). For a script's
// coroutine, answer tells a resume that delivers the answer of self:call
// (from the preamble's propagate) from one the script asked for.
func (st *state) resumer(kind linkKind, answer bool, raw lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		th, ok := L.Get(1).(*lua.LState)
		if !ok {
			L.Error(lua.LString(fmt.Sprintf("%sbad argument #1 to resume (coroutine expected, got %s)", scriptWhere(L), L.Get(1).Type())), 0)
		}
		if len(st.chain) >= maxNesting {
			L.Error(lua.LString(scriptWhere(L)+fmt.Sprintf("stack overflow (pcall, xpcall and coroutines nested more than %d deep)", maxNesting)), 0)
		}
		if kind == linkScript && !answer {
			if msg := st.unresumable(th); msg != "" {
				L.Push(lua.LFalse)
				L.Push(lua.LString(msg))
				return 2
			}
		}
		if answer {
			delete(st.parked, th)
		}
		st.chain = append(st.chain, link{th, kind})
		n := st.resumeIn(L, raw)
		results := L.GetTop() - n + 1 // ok, then the values
		if n < 2 {
			return n
		}
		switch ok, v := L.Get(results), L.Get(results+1); {
		case ok == lua.LFalse && v == lua.LString(callstackOverflow):
			L.Replace(results+1, lua.LString(scriptWhere(th)+overflowMessage))
		case ok == lua.LTrue && v == st.h.mark && kind == linkScript && !th.Dead:
			// parked in self:call: only the answer may resume it
			st.parked[th] = st.rootCo(L)
		}
		return n
	}
}

// resumeIn runs raw with th pushed on the chain, and pops it however raw ends.
func (st *state) resumeIn(L *lua.LState, raw lua.LGFunction) int {
	defer st.popLink()
	return raw(L)
}

// popLink drops the innermost link (and its reference to the thread).
func (st *state) popLink() {
	st.chain[len(st.chain)-1] = link{}
	st.chain = st.chain[:len(st.chain)-1]
}

// unresumable says why a script may not resume th ("" if it may).
func (st *state) unresumable(th *lua.LState) string {
	switch {
	case st.cos[th] != nil:
		return "cannot resume a callback's coroutine"
	case st.parked[th] != nil:
		return "cannot resume a coroutine that waits in self:call (the answer resumes it)"
	case th.Parent != nil:
		return "cannot resume non-suspended coroutine"
	}
	return ""
}

// forgetParkedScripts kills the script coroutines parked in self:call
// under c, which will never get an answer: a script that kept one can no
// longer resume it (it is dead).
func (st *state) forgetParkedScripts(c *co) {
	for th, owner := range st.parked {
		if owner == c {
			th.Dead = true
			delete(st.parked, th)
		}
	}
}

// coRunning is coroutine.running: the innermost coroutine the script
// created, or nil in a callback (as in Lua's main thread). The runtime's
// own coroutines (callbacks, pcall) are never returned.
func (st *state) coRunning(L *lua.LState) int {
	if th := st.scriptThread(); th != nil {
		L.Push(th)
	} else {
		L.Push(lua.LNil)
	}
	return 1
}

func (st *state) scriptThread() *lua.LState {
	for i := len(st.chain) - 1; i >= 0; i-- {
		switch st.chain[i].kind {
		case linkScript:
			return st.chain[i].th
		case linkCallback:
			return nil
		}
	}
	return nil
}

// coStatus is coroutine.status, which calls a script's coroutine "running"
// also while it runs a pcall (in a pooled coroutine of its own).
func (st *state) coStatus(raw lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		if th := L.CheckThread(1); th == st.scriptThread() {
			L.Push(lua.LString("running"))
			return 1
		}
		return raw(L)
	}
}

// scriptWhere returns "file:line: " of the innermost frame of th that runs
// script code (not the preamble), or "".
func scriptWhere(th *lua.LState) string { return traceWhere(traceback(th)) }
