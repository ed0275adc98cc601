package luabind

import (
	"fmt"

	"github.com/agentd/agentd/runtime"
	lua "github.com/yuin/gopher-lua"
)

// endpoint is what serviceEndPoint returns: any method name on it sends a
// request of that name to one service agent.
type endpoint struct {
	sv *svc
	b  *runtime.Binding
}

func requestMethods() map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"exportMethod": func(L *lua.LState) int {
			sv := self(L)
			switch v := L.Get(2).(type) {
			case lua.LString:
				name := string(v)
				alias := L.OptString(3, name)
				sv.rs.ExportMethod(alias, sv.st.lateMethod(sv, name))
			case *lua.LFunction:
				alias, ok := L.Get(3).(lua.LString)
				if !ok {
					L.ArgError(3, "a function is exported under a name: exportMethod(fn, name)")
				}
				sv.rs.ExportMethod(string(alias), func(r *runtime.Request) { sv.st.runMethod(sv, v, r) })
			default:
				L.ArgError(2, "expected a method name or a function")
			}
			return 0
		},
		"unexportMethod": func(L *lua.LState) int {
			self(L).rs.UnexportMethod(L.CheckString(2))
			return 0
		},
		"serviceEndPoint": func(L *lua.LState) int {
			sv := self(L)
			var b *runtime.Binding
			if name, ok := L.Get(2).(lua.LString); ok {
				if name == "" {
					L.ArgError(2, "empty service name")
				}
				b = sv.st.h.rt.FirstNamed(string(name))
			} else {
				b = sv.st.target(L, 2).Binding()
			}
			if b == nil {
				L.Push(lua.LNil)
				return 1
			}
			ud := L.NewUserData()
			ud.Value = &endpoint{sv: sv, b: b}
			ud.Metatable = sv.st.h.endpointMT
			L.Push(ud)
			return 1
		},
		"sendRequest": func(L *lua.LState) int {
			sv := self(L)
			tgt := sv.st.target(L, 2)
			method := L.CheckString(3)
			return pushStr(L, sv.rs.SendRequest(tgt, method, args(L, sv.st, "sendRequest", 4)))
		},
		"processResponse": func(L *lua.LState) int {
			sv, fn := self(L), checkFn(L, 2)
			st := sv.st
			sv.rs.ProcessResponse(L.CheckString(3), func(res any, id string) {
				st.call(sv, "response", fn, sv.tbl, st.conv.toLua(st.L, res), lua.LString(id))
			})
			return 0
		},
		"processFailure": func(L *lua.LState) int {
			sv, fn := self(L), checkFn(L, 2)
			st := sv.st
			sv.rs.ProcessFailure(L.CheckString(3), func(f *runtime.Failure) {
				st.call(sv, "failure", fn, sv.tbl, failureTable(st.L, f))
			}, checkSeconds(L, 4, 0))
			return 0
		},
		"ignoreResponse": func(L *lua.LState) int {
			self(L).rs.IgnoreResponse(L.CheckString(2))
			return 0
		},
		"responsePending": func(L *lua.LState) int {
			L.Push(lua.LBool(self(L).rs.ResponsePending(L.CheckString(2))))
			return 1
		},
		"setRequestTimeout": func(L *lua.LState) int {
			sv := self(L)
			d := seconds(L, 2, L.CheckNumber(2))
			if d <= 0 {
				L.ArgError(2, "the timeout must be positive")
			}
			sv.rs.SetRequestTimeout(d)
			return 0
		},
		"currentRequest": func(L *lua.LState) int {
			sv := self(L)
			c := sv.st.rootCo(L)
			if c == nil || c.req == nil {
				L.Push(lua.LNil)
				return 1
			}
			t := L.CreateTable(0, 3)
			t.RawSetString("sender", sv.st.bindingUD(c.req.Sender))
			t.RawSetString("conversationId", lua.LString(c.req.ID))
			t.RawSetString("method", lua.LString(c.req.Method))
			L.Push(t)
			return 1
		},
		"abortResponse": func(L *lua.LState) int {
			sv := self(L)
			if c := sv.st.rootCo(L); c == nil || c.req == nil {
				L.RaiseError("abortResponse: not inside a request method")
			}
			ud := L.NewUserData()
			ud.Value = checkFailure(L, 2)
			ud.Metatable = sv.st.h.failureMT
			L.Error(ud, 0)
			return 0
		},
		"suspendResponse": func(L *lua.LState) int {
			sv := self(L)
			c := sv.st.rootCo(L)
			if c == nil || c.req == nil {
				L.RaiseError("suspendResponse: not inside a request method")
			}
			c.suspended = true
			return pushStr(L, c.req.ID)
		},
		"resumeResponse": func(L *lua.LState) int {
			sv := self(L)
			r := sv.rs.PendingRequest(L.CheckString(2))
			if r == nil {
				L.Push(lua.LFalse)
				return 1
			}
			sv.rs.Answer(r, sv.st.content(L, "resumeResponse", 3, "result"))
			L.Push(lua.LTrue)
			return 1
		},
		"cancelResponse": func(L *lua.LState) int {
			sv := self(L)
			r := sv.rs.PendingRequest(L.CheckString(2))
			f := checkFailure(L, 3)
			if r == nil {
				L.Push(lua.LFalse)
				return 1
			}
			sv.rs.AnswerFailure(r, f)
			L.Push(lua.LTrue)
			return 1
		},
	}
}

// rawcall is the Go half of self:call(target, method, ...): it sends the
// request and parks the callback coroutine until the answer, which the
// preamble's call turns into a result or an error. Its errors name the
// script's line (level 2: the caller of the preamble's call).
func rawcall(L *lua.LState) int {
	sv := svcOf(L.Get(1))
	if sv == nil {
		raise2(L, "call: expected a service object (use self:call(...))")
	}
	st := sv.st
	tgt, msg := toTarget(L.Get(2))
	if msg != "" {
		raise2(L, "call: bad target: "+msg)
	}
	method, ok := L.Get(3).(lua.LString)
	if !ok {
		raise2(L, "call: the method name must be a string")
	}
	c := st.rootCo(L)
	switch {
	case c == nil && st.loading:
		raise2(L, "call: a script cannot wait for an answer while it loads; call from init or another callback")
	case c == nil:
		raise2(L, "call: only a callback can wait for an answer")
	case c.waiting:
		raise2(L, "call: this callback is already waiting for an answer")
	case sv.rs.Destroying():
		raise2(L, "call: the service is being destroyed and can no longer wait for answers")
	case !st.plainCall(L) && !yieldSafe():
		raise2(L, "call: cannot wait for an answer inside a metamethod, an iterator, a module's top level or a function called by Go (string.gsub, table.sort); use sendRequest with processResponse there")
	}
	a, err := st.requestArgs(L, 4)
	if err != nil {
		raise2(L, "call: "+err.Error())
	}
	id := sv.rs.SendRequest(tgt, string(method), a)
	sv.rs.ProcessResponse(id, func(res any, _ string) {
		st.resumeParked(c, lua.LTrue, st.conv.toLua(st.L, res))
	})
	sv.rs.ProcessFailure(id, func(f *runtime.Failure) {
		st.resumeParked(c, lua.LFalse, failureTable(st.L, f))
	}, sv.rs.RequestTimeout())
	c.waiting = true
	return L.Yield(st.h.mark)
}

// raise2 raises msg as an error of the caller of self:call (the preamble's
// call sits between: gopher-lua's level n names frame n-1).
func raise2(L *lua.LState, msg string) {
	L.Error(lua.LString(msg), 3)
}

// requestArgs converts the arguments from n on for a request (nil when
// there are none), with the state's converter; an argument that cannot be
// sent, or arguments over the exchange's size limit, are an error naming
// the argument.
func (st *state) requestArgs(L *lua.LState, n int) ([]any, error) {
	top := L.GetTop()
	if top < n {
		return nil, nil
	}
	out := make([]any, 0, top-n+1)
	for i := n; i <= top; i++ {
		v, err := st.conv.fromLua(L.Get(i), "")
		if err != nil { // again, with the path's root named
			_, err = st.conv.fromLua(L.Get(i), fmt.Sprintf("args[%d]", i-n+1))
			return nil, err
		}
		out = append(out, v)
	}
	if err := st.h.checkSize(out, "args"); err != nil {
		return nil, err
	}
	return out, nil
}

// args converts the arguments from n on for a request, raising an error
// of fname when they cannot be sent.
func args(L *lua.LState, st *state, fname string, n int) []any {
	a, err := st.requestArgs(L, n)
	if err != nil {
		L.RaiseError("%s: %s", fname, err.Error())
	}
	return a
}

// checkFailure reads (error, description [, origin [, details]]) from n on.
func checkFailure(L *lua.LState, n int) *runtime.Failure {
	return &runtime.Failure{
		Code:        L.CheckInt(n),
		Description: L.CheckString(n + 1),
		Origin:      L.OptString(n+2, ""),
		Details:     L.OptString(n+3, ""),
	}
}

func failureTable(L *lua.LState, f *runtime.Failure) *lua.LTable {
	t := L.CreateTable(0, 5)
	t.RawSetString("error", lua.LNumber(f.Code))
	t.RawSetString("description", lua.LString(f.Description))
	t.RawSetString("origin", lua.LString(f.Origin))
	t.RawSetString("details", lua.LString(f.Details))
	t.RawSetString("conversationId", lua.LString(f.ConversationID))
	return t
}

// lateMethod exports self[name], looked up when each request arrives.
func (st *state) lateMethod(sv *svc, name string) runtime.Method {
	return func(r *runtime.Request) {
		fn, ok := st.L.GetField(sv.tbl, name).(*lua.LFunction)
		if !ok {
			r.Fail(runtime.NewFailure(runtime.ServerMethodUnavailable, "method "+name+" is exported but not defined"))
			return
		}
		st.runMethod(sv, fn, r)
	}
}

// runMethod runs a request method in a coroutine: fn(self, [lead...,] args...).
func (st *state) runMethod(sv *svc, fn *lua.LFunction, r *runtime.Request, lead ...lua.LValue) {
	if st.closed {
		r.Fail(runtime.NewFailure(runtime.ServerApplicationError, "Service was withdrawn before response received."))
		return
	}
	if !fn.IsG && len(lead) == 0 {
		want := max(int(fn.Proto.NumParameters)-1, 0) // the first parameter is self
		got := len(r.Args)
		vararg := fn.Proto.IsVarArg&lua.VarArgIsVarArg != 0
		switch {
		case !vararg && got != want:
			r.Fail(runtime.NewFailure(runtime.ServerParametersIncorrect, fmt.Sprintf("Expected %d arguments, received %d.", want, got)))
			return
		case vararg && got < want:
			r.Fail(runtime.NewFailure(runtime.ServerParametersIncorrect, fmt.Sprintf("Expected %d or more arguments, received %d.", want, got)))
			return
		}
	}
	args := make([]lua.LValue, 0, 1+len(lead)+len(r.Args))
	args = append(args, sv.tbl)
	args = append(args, lead...)
	for _, a := range r.Args {
		args = append(args, st.conv.toLua(st.L, a))
	}
	c := st.acquire(sv, "method "+r.Method)
	c.req = r
	c.onDone = st.answer
	st.start(c, fn, args...)
}

// answer answers a request when its method's coroutine ends: with the
// method's first result, unless it suspended its response; with a failure
// when it raised.
func (st *state) answer(c *co, rets []lua.LValue, errv lua.LValue) {
	r := c.req
	if r.Answered() {
		return
	}
	if errv != nil {
		if ud, ok := errv.(*lua.LUserData); ok {
			if f, ok := ud.Value.(*runtime.Failure); ok {
				r.Fail(&runtime.Failure{Code: f.Code, Description: f.Description, Origin: f.Origin, Details: f.Details})
				return
			}
		}
		details := errorText(errv)
		if len(c.trace) > 0 {
			details += "\n" + formatTrace(c.trace)
		}
		r.Fail(runtime.NewFailure(runtime.ServerApplicationError, details))
		return
	}
	if c.suspended {
		return
	}
	var res lua.LValue = lua.LNil
	if len(rets) > 0 {
		res = rets[0]
	}
	v, err := st.conv.fromLua(res, "result")
	if err == nil {
		err = st.h.checkSize(v, "result")
	}
	if err != nil {
		r.Fail(runtime.NewFailure(runtime.ServerResponseEncodingError, err.Error()))
		return
	}
	r.Reply(v)
}

// endpointIndex is the __index of endpoints: ep:method(...) sends a
// request and returns its conversation id.
func endpointIndex(L *lua.LState) int {
	ud := L.CheckUserData(1)
	name := L.CheckString(2)
	L.Push(L.NewClosure(endpointCall, ud, lua.LString(name)))
	return 1
}

func endpointCall(L *lua.LState) int {
	ud := L.CheckUserData(lua.UpvalueIndex(1))
	ep := ud.Value.(*endpoint)
	method := string(L.Get(lua.UpvalueIndex(2)).(lua.LString))
	first := 1
	if L.Get(1) == ud {
		first = 2
	}
	id := ep.sv.rs.SendRequest(ep.b.Target(), method, args(L, ep.sv.st, method, first))
	return pushStr(L, id)
}
