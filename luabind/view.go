package luabind

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// Read-only views: a subscriber that asks for them ({view = true} on
// monitorReports) receives report content that is a table as a userdata
// over the shared Go value, converted field by field when read, instead
// of a table built for it. Every subscriber of a report sees the same Go
// value, which nobody may change (runtime's rule for content); a view
// offers no way to change it.
//
// The userdata's Value is a viewMap or a viewList (types nothing else
// uses), its metatable the host's viewMT.
type (
	viewMap  map[string]any
	viewList []any
)

// newView returns a view over v when v is a table's content (a map or a
// slice), else v converted as usual.
func (st *state) newView(v any) lua.LValue {
	var x any
	switch v := v.(type) {
	case map[string]any:
		x = viewMap(v)
	case []any:
		x = viewList(v)
	default:
		return st.conv.toLua(st.L, v)
	}
	ud := st.L.NewUserData()
	ud.Value = x
	ud.Metatable = st.h.viewMT
	return ud
}

// viewValue returns the Go value behind a view.
func viewValue(v lua.LValue) (any, bool) {
	ud, ok := v.(*lua.LUserData)
	if !ok {
		return nil, false
	}
	switch x := ud.Value.(type) {
	case viewMap:
		return map[string]any(x), true
	case viewList:
		return []any(x), true
	}
	return nil, false
}

// viewMeta builds the metatable of views, shared by every state: its
// functions keep nothing between calls.
func viewMeta(L *lua.LState) *lua.LTable {
	mt := L.CreateTable(0, 5)
	mt.RawSetString("__index", L.NewFunction(viewIndex))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("attempt to change a read-only report view (agentd.copy(v) makes a table of it)")
		return 0
	}))
	mt.RawSetString("__len", L.NewFunction(func(L *lua.LState) int {
		n := 0
		if l, ok := L.CheckUserData(1).Value.(viewList); ok {
			n = len(l)
		}
		L.Push(lua.LNumber(n))
		return 1
	}))
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(fmt.Sprintf("view: %p", L.CheckUserData(1))))
		return 1
	}))
	mt.RawSetString("__metatable", lua.LString("view"))
	return mt
}

// viewIndex is v[k]: the field converted (a nested table as a new view),
// nil when absent.
func viewIndex(L *lua.LState) int {
	ud := L.CheckUserData(1)
	var x any
	switch c := ud.Value.(type) {
	case viewMap:
		if k, ok := L.Get(2).(lua.LString); ok {
			x = c[string(k)]
		}
	case viewList:
		if k, ok := L.Get(2).(lua.LNumber); ok {
			if i := int(k); float64(i) == float64(k) && i >= 1 && i <= len(c) {
				x = c[i-1]
			}
		}
	}
	L.Push(stateOf(L).newView(x))
	return 1
}

// viewINext is ipairs' step over a view.
func viewINext(L *lua.LState) int {
	ud := L.CheckUserData(1)
	i := L.CheckInt(2) + 1
	if l, ok := ud.Value.(viewList); ok && i >= 1 && i <= len(l) && l[i-1] != nil {
		L.Push(lua.LNumber(i))
		L.Push(stateOf(L).newView(l[i-1]))
		return 2
	}
	L.Push(lua.LNil)
	return 1
}

// viewPairs pushes pairs' iterator, state and first key for a view: a
// list is walked as ipairs does; a map's fields, in Go's map order (as
// unspecified as a table's), from a list of its keys taken now.
func (st *state) viewPairs(L *lua.LState, v lua.LValue) int {
	m, ok := v.(*lua.LUserData).Value.(viewMap)
	if !ok {
		L.Push(L.NewFunction(viewINext))
		L.Push(v)
		L.Push(lua.LNumber(0))
		return 3
	}
	keys := make([]string, 0, len(m))
	for k, x := range m {
		if x != nil {
			keys = append(keys, k)
		}
	}
	next := 0
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if next < len(keys) {
			k := keys[next]
			next++
			L.Push(st.conv.str(k))
			L.Push(st.newView(m[k]))
			return 2
		}
		L.Push(lua.LNil)
		return 1
	}))
	L.Push(v)
	L.Push(lua.LNil)
	return 3
}

// installViewIteration replaces the state's pairs and ipairs with ones
// that also accept views (gopher-lua's refuse anything but a table, and
// ignore __pairs). For anything else they are the originals.
func (st *state) installViewIteration() {
	L := st.L
	g := L.G.Global
	wrap := func(name string, forView func(L *lua.LState, v lua.LValue) int) {
		orig, ok := g.RawGetString(name).(*lua.LFunction)
		if !ok || !orig.IsG || len(orig.Upvalues) != 1 {
			return
		}
		origG := orig.GFunction
		// the replacement has the original's upvalue (its step function
		// for tables), so the original's Go code runs unchanged inside it
		g.RawSetString(name, L.NewClosure(func(L *lua.LState) int {
			if _, ok := viewValue(L.Get(1)); ok {
				return forView(L, L.Get(1))
			}
			return origG(L)
		}, orig.Upvalues[0].Value()))
	}
	wrap("pairs", st.viewPairs)
	wrap("ipairs", func(L *lua.LState, v lua.LValue) int {
		L.Push(L.NewFunction(viewINext))
		L.Push(v)
		L.Push(lua.LNumber(0))
		return 3
	})
}
