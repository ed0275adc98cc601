package luabind

import (
	"errors"

	lua "github.com/yuin/gopher-lua"
)

// A Handler runs one Lua function on values that come from Go, in a bare
// Lua state of its own: no runtime, agent, service or sandbox, only the
// base library. It exists for baselines: agentd bench measures NATS →
// decode → Lua function with it, so that the figure it compares the
// exchange with pays the same conversion of content into a Lua table as
// a script's report callback (a converter of its own, as each script's
// state has). A Handler is used by one goroutine at a time.
type Handler struct {
	L    *lua.LState
	fn   lua.LValue
	conv converter
}

// NewHandler runs src, a Lua chunk that returns a function, and keeps that
// function for Call.
func NewHandler(src string) (*Handler, error) {
	L := lua.NewState(stateOptions)
	L.Push(L.NewFunction(lua.OpenBase))
	L.Push(lua.LString(lua.BaseLibName))
	L.Call(1, 0)
	fn, err := L.LoadString(src)
	if err != nil {
		L.Close()
		return nil, err
	}
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		L.Close()
		return nil, err
	}
	f := L.Get(-1)
	L.Pop(1)
	if f.Type() != lua.LTFunction {
		L.Close()
		return nil, errors.New("luabind: the handler's chunk must return a function, got " + f.Type().String())
	}
	return &Handler{L: L, fn: f}, nil
}

// Call calls the function with subject and content, converted as a
// report callback's are, and returns its first result converted by
// FromLua.
func (h *Handler) Call(subject string, content any) (any, error) {
	if err := h.L.CallByParam(lua.P{Fn: h.fn, NRet: 1, Protect: true}, h.conv.str(subject), h.conv.toLua(h.L, content)); err != nil {
		return nil, err
	}
	r := h.L.Get(-1)
	h.L.Pop(1)
	return FromLua(r, "result")
}

// Close releases the Lua state.
func (h *Handler) Close() { h.L.Close() }
