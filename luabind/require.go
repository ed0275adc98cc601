package luabind

import (
	"os"
	"path/filepath"
	"strings"

	lua "github.com/yuin/gopher-lua"
	luar "layeh.com/gopher-luar"
)

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
