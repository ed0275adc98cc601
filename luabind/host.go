package luabind

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentd/agentd/internal/wire"
	"github.com/agentd/agentd/runtime"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Options configure a Host. The zero value is usable.
type Options struct {
	// Logger receives script logs and callback errors. Default: the runtime's logger.
	Logger *slog.Logger
	// Stdout receives what scripts print. Default: io.Discard.
	Stdout io.Writer
	// CallbackLimit stops a callback that runs longer (0: no limit).
	CallbackLimit time.Duration
	// AllocLimit is the largest value, in bytes, that one call of a Lua
	// builtin may build (string.rep, table.concat, string.format, ...);
	// a call asking for more raises an error. 0: DefaultAllocLimit.
	AllocLimit int64
	// MemoryLimit, when not 0, makes the watchdog stop the callbacks that
	// have run for a tick or more while the Go heap is larger (bytes). It
	// guards the process against a runaway script; it is not a per-script
	// quota. Set the garbage collector's soft limit to it as well
	// (debug.SetMemoryLimit, as the agentd command does), so that garbage
	// alone does not reach it.
	MemoryLimit uint64
	// AllowIO gives scripts the io library and os.remove, os.rename, os.tmpname.
	AllowIO bool
	// AllowExec gives scripts os.execute and io.popen (with AllowIO).
	AllowExec bool
	// Config returns the configuration table of a script, by script name
	// (the file name without ".lua"); it becomes agentd.config.
	Config func(name string) map[string]any
	// Modules are Go values that scripts can require by name; they are
	// exposed with gopher-luar (fields, methods and functions).
	Modules map[string]any
	// LuaModules are Lua modules bundled with the program: module name →
	// Lua source. require finds them after the script's own module files.
	LuaModules map[string]string
}

// A Host runs Lua scripts as agents of one runtime. It holds what all
// Lua states share: compiled chunks, the preamble, and the read-only
// method tables of the Lua API. Its methods may be called from any goroutine.
type Host struct {
	rt   *runtime.Runtime
	opts Options
	log  *slog.Logger
	wd   *watchdog

	printMu sync.Mutex

	mu        sync.Mutex
	protos    map[string]*compiled // by absolute path
	fileReads atomic.Int64         // files read by compile, for tests
	sandbox   Sandbox              // guarded by mu: may change while running

	maxContent atomic.Int64 // see SetMaxContentSize

	// Shared, read-only after NewHost; reachable from scripts only through
	// protected metatables, so no script can write to them.
	tmpl       *lua.LState
	preamble   *lua.FunctionProto
	done, mark *lua.LUserData
	svcMethods *lua.LTable // service object methods
	stateMT    *lua.LTable // metatable of each state's method table: __index = svcMethods
	bindingMT  *lua.LTable
	endpointMT *lua.LTable
	failureMT  *lua.LTable
	agentdMT   *lua.LTable
	viewMT     *lua.LTable  // metatable of read-only report views
	libs       *libTemplate // the standard libraries, copied into each state (nil: opened in each)
}

//go:embed preamble.lua
var preambleSource string

// preambleName is the preamble's chunk name, as errors and tracebacks show it.
const preambleName = "agentd-preamble"

// NewHost returns a host for scripts of rt.
func NewHost(rt *runtime.Runtime, opts Options) *Host {
	if opts.Logger == nil {
		opts.Logger = rt.Logger()
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	h := &Host{
		rt:      rt,
		opts:    opts,
		log:     opts.Logger,
		protos:  make(map[string]*compiled),
		sandbox: Sandbox{AllowIO: opts.AllowIO, AllowExec: opts.AllowExec},
		tmpl:    lua.NewState(lua.Options{SkipOpenLibs: true}),
	}
	if opts.AllocLimit <= 0 {
		h.opts.AllocLimit = DefaultAllocLimit
	}
	if opts.CallbackLimit > 0 || opts.MemoryLimit > 0 {
		h.wd = newWatchdog(opts.CallbackLimit, opts.MemoryLimit, h.log)
	}
	proto, err := compileSource(preambleSource, preambleName)
	if err != nil {
		panic("luabind: preamble does not compile: " + err.Error())
	}
	h.preamble = proto
	h.done = h.tmpl.NewUserData()
	h.mark = h.tmpl.NewUserData()
	h.buildShared()
	h.libs = newLibTemplate()
	return h
}

// Sandbox is what a script may do beyond the default sandbox.
type Sandbox struct {
	AllowIO   bool // the io library, os.remove, os.rename, os.tmpname
	AllowExec bool // os.execute, and io.popen with AllowIO
}

// SetSandbox changes the sandbox of scripts loaded or reloaded from now on.
func (h *Host) SetSandbox(sb Sandbox) {
	h.mu.Lock()
	h.sandbox = sb
	h.mu.Unlock()
}

// SetMaxContentSize bounds, from now on, the encoded size (see package
// wire) of report content, request arguments and results: a larger value
// is an error at the Lua call that sends it (0, the default: no limit).
// The daemon sets it to what the exchange's endpoints can carry.
func (h *Host) SetMaxContentSize(n int) { h.maxContent.Store(int64(n)) }

func (h *Host) currentSandbox() Sandbox {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sandbox
}

// Runtime returns the runtime the host's scripts run in.
func (h *Host) Runtime() *runtime.Runtime { return h.rt }

func compileSource(src, name string) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(strings.NewReader(src), name)
	if err != nil {
		return nil, err
	}
	return lua.Compile(chunk, name)
}

// A ScriptError says what is wrong with a script and where.
type ScriptError struct {
	File      string // as shown to users
	Line      int    // 0 when unknown
	Msg       string
	Traceback string // for errors raised while running
}

func (e *ScriptError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Compile checks that the file at path is valid Lua and caches its
// compiled form; a syntax error is a *ScriptError with file and line.
// Only a regular file of at most regfile.MaxSize bytes is read; anything
// else (a named pipe, a device) is refused at once with a *ScriptError
// that says "cannot read" and why.
func (h *Host) Compile(path string) error {
	_, _, err := h.compile(path)
	return err
}

func syntaxError(name string, data []byte, err error) *ScriptError {
	switch e := err.(type) {
	case *parse.Error:
		if e.Pos.Line <= 0 {
			// gopher-lua has no position for the end of the file: name the last line
			last := bytes.Count(bytes.TrimRight(data, " \t\r\n"), []byte("\n")) + 1
			msg := "syntax error: unexpected end of file"
			if e.Token != "" {
				msg += " after '" + e.Token + "'"
			}
			return &ScriptError{File: name, Line: last, Msg: msg + " (a missing 'end' or ')'?)"}
		}
		msg := strings.TrimSpace(e.Message)
		if e.Token != "" {
			msg += " near '" + e.Token + "'"
		}
		return &ScriptError{File: name, Line: e.Pos.Line, Msg: msg}
	case *lua.CompileError:
		return &ScriptError{File: name, Line: e.Line, Msg: e.Message}
	}
	return &ScriptError{File: name, Msg: err.Error()}
}

// DisplayPath returns path relative to the working directory when it lies
// below it, else path itself: the name used in messages and tracebacks.
func DisplayPath(path string) string {
	wd, err := os.Getwd()
	if err != nil || !filepath.IsAbs(path) {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

// checkSize refuses v when its encoded size is over the content limit
// (SetMaxContentSize).
func (h *Host) checkSize(v any, what string) error {
	limit := int(h.maxContent.Load())
	if limit <= 0 {
		return nil
	}
	if n, ok := wire.SizeWithin(v, limit); !ok {
		if n < 0 {
			return fmt.Errorf("%s cannot be encoded for the exchange", what)
		}
		return fmt.Errorf("%s is too large: over %d bytes encoded, the exchange's limit", what, limit)
	}
	return nil
}

// print writes one line for a script's print call.
func (h *Host) print(line string) {
	h.printMu.Lock()
	defer h.printMu.Unlock()
	_, _ = io.WriteString(h.opts.Stdout, line)
}
