package luabind

import (
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// stdLibs are the gopher-lua libraries every state opens (the sandbox
// then removes what scripts may not use).
var stdLibs = []struct {
	name string
	open lua.LGFunction
}{
	{lua.BaseLibName, lua.OpenBase},
	{lua.TabLibName, lua.OpenTable},
	{lua.StringLibName, lua.OpenString},
	{lua.MathLibName, lua.OpenMath},
	{lua.CoroutineLibName, lua.OpenCoroutine},
	{lua.OsLibName, lua.OpenOs},
}

// A libTemplate is what opening stdLibs puts in a state, read once from a
// state of the host's: each new state gets its own tables and function
// objects, built from it at their final size, instead of running the
// libraries' openers (which fill every table one key at a time and box
// every key twice: a quarter of the CPU time of starting an agent).
// Scripts see the same globals and library tables as before; only the
// order pairs visits them in differs (it was random, it is now fixed).
type libTemplate struct {
	globals   []libEntry
	stringLib int // index in globals of the string library, the strings' metatable (-1: none)
}

type libKind uint8

const (
	libConst   libKind = iota // an immutable value (number, string, boolean)
	libFunc                   // a Go function, with Go functions as upvalues
	libTable                  // a library table
	libGlobals                // _G: the state's global table
	libSelf                   // a library table's entry that is the table itself (string.__index)
	libAlias                  // the same function object as the entry at index alias (string.gfind)
)

type libEntry struct {
	name     string
	key      lua.LValue // the boxed name: immutable, shared by every state
	kind     libKind
	value    lua.LValue // libConst
	fn       lua.LGFunction
	upvalues []lua.LGFunction
	entries  []libEntry // libTable
	alias    int        // libAlias
}

// newLibTemplate opens stdLibs on a fresh state and records what they
// made. It returns nil when something is outside what instantiate can
// copy (a gopher-lua version this was not written against): states then
// run the openers.
func newLibTemplate() *libTemplate {
	if !fastTables {
		return nil
	}
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, lib := range stdLibs {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	g := L.G.Global
	strMT, _ := L.GetMetatable(lua.LString("")).(*lua.LTable)
	t := &libTemplate{stringLib: -1}
	ok := true
	type place struct {
		tbl *lua.LTable
		idx int
	}
	seen := map[*lua.LFunction]place{}
	var record func(tbl *lua.LTable, top bool) []libEntry
	record = func(tbl *lua.LTable, top bool) []libEntry {
		var out []libEntry
		for k, v := tbl.Next(lua.LNil); k != lua.LNil; k, v = tbl.Next(k) {
			name, isStr := k.(lua.LString)
			if !isStr {
				ok = false
				continue
			}
			e := libEntry{name: string(name), key: k}
			switch v := v.(type) {
			case lua.LNumber, lua.LString, lua.LBool:
				e.kind, e.value = libConst, v
			case *lua.LFunction:
				if p, dup := seen[v]; dup {
					// one function under two names: the copy keeps it one
					// object, within the same table only
					e.kind, e.alias = libAlias, p.idx
					ok = ok && p.tbl == tbl
					break
				}
				seen[v] = place{tbl, len(out)}
				e.kind, e.fn = libFunc, v.GFunction
				if !v.IsG {
					ok = false
				}
				for _, uv := range v.Upvalues {
					f, isFn := uv.Value().(*lua.LFunction)
					if !isFn || !f.IsG || len(f.Upvalues) > 0 {
						ok = false
						continue
					}
					e.upvalues = append(e.upvalues, f.GFunction)
				}
			case *lua.LTable:
				switch {
				case v == g:
					e.kind = libGlobals
				case v == tbl:
					e.kind = libSelf
				case top && v.Metatable == lua.LNil:
					e.kind, e.entries = libTable, record(v, false)
					if v == strMT {
						t.stringLib = len(out)
					}
				default:
					ok = false
				}
			default:
				ok = false
			}
			out = append(out, e)
		}
		return out
	}
	t.globals = record(g, true)
	if !ok || (strMT != nil && t.stringLib < 0) {
		return nil
	}
	return t
}

// openLibs gives L the standard libraries: from the host's template, or
// by running their openers.
func (h *Host) openLibs(L *lua.LState) {
	if h.libs == nil {
		for _, lib := range stdLibs {
			L.Push(L.NewFunction(lib.open))
			L.Push(lua.LString(lib.name))
			L.Call(1, 0)
		}
		return
	}
	h.libs.instantiate(L)
}

// instantiate puts a copy of the libraries in L, whose global table must
// be empty.
func (t *libTemplate) instantiate(L *lua.LState) {
	g := L.G.Global
	gl := (*tableLayout)(unsafe.Pointer(g))
	if gl.strdict == nil {
		gl.strdict = make(map[string]lua.LValue, len(t.globals)+16)
	}
	// room for the globals the sandbox and the preamble add
	gl.keys = make([]lua.LValue, 0, len(t.globals)+16)
	gl.k2i = make(map[lua.LValue]int, len(t.globals)+16)
	for i := range t.globals {
		e := &t.globals[i]
		var v lua.LValue
		switch e.kind {
		case libConst:
			v = e.value
		case libFunc:
			v = e.newFunc(L)
		case libAlias:
			v = gl.keyed(t.globals[e.alias].name)
		case libGlobals:
			v = g
		case libTable:
			tbl := L.CreateTable(0, 0)
			tl := (*tableLayout)(unsafe.Pointer(tbl))
			tl.strdict = make(map[string]lua.LValue, len(e.entries))
			tl.keys = make([]lua.LValue, 0, len(e.entries))
			tl.k2i = make(map[lua.LValue]int, len(e.entries))
			for j := range e.entries {
				f := &e.entries[j]
				var x lua.LValue
				switch f.kind {
				case libConst:
					x = f.value
				case libFunc:
					x = f.newFunc(L)
				case libSelf:
					x = tbl
				case libGlobals:
					x = g
				case libAlias:
					x = tl.keyed(e.entries[f.alias].name)
				}
				tl.put(f, x)
			}
			if i == t.stringLib {
				L.SetMetatable(lua.LString(""), tbl)
			}
			v = tbl
		}
		gl.put(e, v)
	}
}

// keyed returns the value a string key holds.
func (tl *tableLayout) keyed(name string) lua.LValue { return tl.strdict[name] }

// put adds a key the table does not have yet, as RawSetString would.
func (tl *tableLayout) put(e *libEntry, v lua.LValue) {
	tl.strdict[e.name] = v
	tl.k2i[e.key] = len(tl.keys)
	tl.keys = append(tl.keys, e.key)
}

// newFunc makes the state's own function object (a script may change its
// environment with setfenv), with its own upvalue functions.
func (e *libEntry) newFunc(L *lua.LState) *lua.LFunction {
	if len(e.upvalues) == 0 {
		return L.NewFunction(e.fn)
	}
	ups := make([]lua.LValue, len(e.upvalues))
	for i, u := range e.upvalues {
		ups[i] = L.NewFunction(u)
	}
	return L.NewClosure(e.fn, ups...)
}
