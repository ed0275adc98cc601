package luabind

import (
	"maps"
	"path/filepath"
	"strings"
	"sync"

	"github.com/agentd/agentd/runtime"
	lua "github.com/yuin/gopher-lua"
)

// A Script is a Lua file running as one agent.
type Script struct {
	h       *Host
	path    string // absolute
	display string // as shown in messages
	name    string // the agent's name: the file name without .lua, unless LoadOptions say otherwise
	opts    LoadOptions
	root    string // opts.Root, absolute and with links resolved
	agent   *runtime.Agent
	st      *state // owner goroutine only

	draining []*state // replaced versions finishing their work (owner goroutine)

	mu   sync.Mutex
	deps map[string][32]byte // module path → the content it had when last read
}

// Load compiles the script at path, starts an agent for it, runs its main
// chunk, registers the services it declared and calls their init hooks.
// A syntax error, or an error while the chunk runs, is a *ScriptError
// naming file and line; then nothing of the script stays behind.
func (h *Host) Load(path string) (*Script, error) {
	return h.load(path, LoadOptions{})
}

func (h *Host) load(path string, opts LoadOptions) (*Script, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	root, err := realRoot(opts.Root)
	if err != nil {
		return nil, err
	}
	proto, _, err := h.compile(abs)
	if err != nil {
		return nil, err
	}
	sc := &Script{
		h:       h,
		path:    abs,
		display: DisplayPath(abs),
		name:    opts.Name,
		opts:    opts,
		root:    root,
		deps:    make(map[string][32]byte),
	}
	if sc.name == "" {
		sc.name = strings.TrimSuffix(filepath.Base(abs), ".lua")
	}
	agent, err := h.rt.NewAgent(sc.name)
	if err != nil {
		return nil, err
	}
	sc.agent = agent
	var loadErr error
	if err := agent.Do(func() { loadErr = sc.start(proto) }); err != nil {
		return nil, err
	}
	if loadErr != nil {
		agent.Stop()
		<-agent.Done()
		return nil, loadErr
	}
	return sc, nil
}

// start runs on the owner goroutine.
func (sc *Script) start(proto *lua.FunctionProto) error {
	st := sc.h.newState(sc, sc.agent)
	sc.st = st
	sc.agent.OnExit(sc.exit)
	st.loading = true
	err := st.runChunk(proto)
	st.loading = false
	if err != nil {
		for _, sv := range st.svcs {
			sv.rs.SetHooks(runtime.Hooks{})
			sv.rs.Destroy()
		}
		st.pending = nil
		return err
	}
	st.registerPending()
	return nil
}

// exit closes every Lua state of the script when its agent exits.
func (sc *Script) exit() {
	for _, st := range sc.draining {
		if st.drainTimer != nil {
			st.drainTimer.Stop()
		}
		st.close()
	}
	sc.draining = nil
	if sc.st != nil {
		sc.st.close()
	}
}

// Path returns the script's absolute path.
func (sc *Script) Path() string { return sc.path }

// Name returns the script's name: its file name without ".lua", or the
// Name of its LoadOptions.
func (sc *Script) Name() string { return sc.name }

// Agent returns the script's agent.
func (sc *Script) Agent() *runtime.Agent { return sc.agent }

// Stop stops the script: its services' destroy hooks run, they are
// withdrawn, and its Lua state is closed. Done is closed afterwards.
func (sc *Script) Stop() { sc.agent.Stop() }

// Done is closed when the script has stopped.
func (sc *Script) Done() <-chan struct{} { return sc.agent.Done() }

// DepHashes returns the module files the script has required, each with
// the SHA-256 of the content it was compiled from when last required:
// what runs, even if the file changed since.
func (sc *Script) DepHashes() map[string][32]byte {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return maps.Clone(sc.deps)
}

func (sc *Script) addDep(path string, sum [32]byte) {
	sc.mu.Lock()
	sc.deps[path] = sum
	sc.mu.Unlock()
}
