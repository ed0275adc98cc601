// Package luabind runs Lua scripts as agents of a runtime.Runtime: it
// builds their sandboxed Lua states, implements the Lua API on top of
// package runtime, converts values between Lua and Go, and reloads a
// script in place. It is the only package that imports gopher-lua (and
// gopher-luar, for Go modules given to scripts).
//
// # Ownership
//
// A Host holds what every Lua state shares: compiled chunks (by path and
// content hash), the compiled preamble, and the read-only method tables of
// the API, reachable from scripts only through protected metatables. Its
// methods may be called from any goroutine.
//
// A Script is one file running as one runtime agent. Each Script has one
// current state (and, right after a hot reload, older states that finish
// their work: draining). A state, its Lua values and its services are
// touched only by the agent's owner goroutine: every entry point from the
// runtime (a callback, a hook, Load, Reload) runs there, so nothing in a
// state is locked.
//
// # Coroutines
//
// Every callback runs in a coroutine of its own whose body is a loop of
// the preamble (preamble.lua): the coroutine stays alive between
// callbacks and is reused. self:call sends a request and yields the
// callback's coroutine with a marker (MARK); the answer resumes it. A
// finished callback yields DONE. pcall, xpcall and coroutine.resume/wrap
// are replaced by versions a coroutine can yield through (each pcall runs
// in a pooled coroutine), because gopher-lua cannot yield across its own
// pcall. The chain of running coroutines (nesting.go) bounds their
// nesting and keeps runtime-owned coroutines out of scripts' reach.
//
// Files:
//
//	host.go        Host: options, ScriptError
//	compilecache.go  compiling each file once per version (filestamp_*.go)
//	script.go      Script: Load, Stop, dependencies
//	state.go       a state: creation, the main chunk, hooks, registering services
//	sandbox.go     the libraries a state gets, within the sandbox
//	libs.go        the standard libraries, copied into each state from a template
//	limits.go      bounded replacements of builtins; chunklimits.go: chunk size checks
//	preamble.go    the preamble's primitives (pcall, resume, call) and their installation
//	coroutines.go  the callback coroutine scheduler, yield safety
//	nesting.go     the chain of running coroutines
//	watchdog.go    callback_limit and memory_limit
//	errors.go      tracebacks and error texts with file:line
//	require.go     require: modules from the script's folder or pack
//	service.go     the service object; api_*.go: the Lua API
//	values.go      Lua ↔ Go values; binding.go: bindings and endpoints
//	convert.go     a state's converter: the same conversions with fewer allocations
//	view.go        read-only views of report content ({view = true})
//	reload.go      hot reload of a script: the transaction
//
// # Values
//
// Report content, request arguments and results cross between states as
// plain Go values that nobody changes after sending. Each state has a
// converter (convert.go) that builds Lua tables from them and back; it
// keeps only immutable things between calls (boxed keys, blocks of boxed
// numbers, the key list of the last table shape), never a table a script
// received. It fills gopher-lua's tables directly (tableLayout mirrors
// LTable's unexported fields, checked field by field at start-up; the fast
// paths switch themselves off if gopher-lua changes). A subscriber that
// asks for views gets a userdata over the shared Go value instead.
//
// # Abbreviations
//
// st is a *state, sc a *Script, sv a *svc (the Lua side of a service), rs
// its *runtime.Service, co or c a callback coroutine (*co), L a Lua
// thread, ud a userdata, h the Host.
package luabind
