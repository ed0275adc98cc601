package luabind

import (
	"errors"
	"fmt"
	"time"

	"github.com/agentd/agentd/runtime"
	lua "github.com/yuin/gopher-lua"
)

// ReloadResult says what a reload did.
type ReloadResult struct {
	Kept    []string      // services that kept their identity
	Added   []string      // services of the new version only
	Removed []string      // services of the old version only (withdrawn)
	Took    time.Duration // from reading the file to the commit
}

// Reload replaces the running version of the script with the file's
// current content, in one transaction: compile, run the new chunk in a
// fresh Lua state, pair services by name and audience, hand each old
// service's snapshot to its new service's init(restored), then commit on
// the agent's goroutine (see runtime.Agent.Commit). If any step fails
// (syntax error, error in the chunk, in a snapshot or an init, a snapshot
// that cannot be sent) the old version keeps running untouched and the
// error, a *ScriptError where it has a line, says why.
//
// The old version's coroutines that still wait for an answer get drain to
// finish; then requests it took and never answered fail with
// SERVER_APPLICATION_ERROR ("service reloaded").
func (sc *Script) Reload(drain time.Duration) (*ReloadResult, error) {
	start := time.Now()
	proto, _, err := sc.h.compile(sc.path)
	if err != nil {
		return nil, err
	}
	var res *ReloadResult
	if err := sc.agent.Do(func() { res, err = sc.swap(proto, drain) }); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	res.Took = time.Since(start)
	return res, nil
}

// pair is an old service and the new one that takes its place.
type pair struct{ old, new *svc }

// swap runs on the owner goroutine.
func (sc *Script) swap(proto *lua.FunctionProto, drain time.Duration) (*ReloadResult, error) {
	old := sc.st
	if old == nil || old.closed {
		return nil, errors.New("reload: the script is not running")
	}
	st := sc.h.newState(sc, sc.agent)
	st.reloading = true
	st.loading = true
	err := st.runChunk(proto)
	st.loading = false
	if err != nil {
		st.discard()
		return nil, err
	}
	declared := st.pending
	st.pending = nil

	// pair services by name and audience, in declaration order
	var pairs []pair
	matched := map[*svc]bool{}
	for _, n := range declared {
		for _, o := range old.svcs {
			if !matched[o] && o.rs.Registered() &&
				o.rs.Binding().Name() == n.rs.Binding().Name() &&
				o.rs.Binding().Audience() == n.rs.Binding().Audience() {
				matched[o] = true
				if err := n.rs.Adopt(o.rs); err != nil {
					st.discard()
					return nil, err
				}
				pairs = append(pairs, pair{o, n})
				break
			}
		}
	}

	// the old version's snapshots, then the new version's inits
	restored := map[*svc]lua.LValue{}
	for _, p := range pairs {
		v, err := old.snapshot(p.old)
		if err != nil {
			if !replaceIfSnapshotFails(p.new) {
				st.discard()
				var se *ScriptError
				if errors.As(err, &se) {
					se.Msg += " (the previous version keeps running; to replace it without its state, set " +
						p.new.rs.Binding().Name() + ".replaceIfSnapshotFails = true in the new version)"
				}
				return nil, err
			}
			sc.h.log.Warn("snapshot failed: the new version starts without the state",
				"script", sc.display, "service", p.new.rs.Binding().Name(), "error", err)
			continue
		}
		if v != nil {
			restored[p.new] = ToLua(st.L, v)
		}
	}
	for _, n := range declared {
		r := restored[n]
		if r == nil {
			r = lua.LNil
		}
		if _, err := st.runSync(n, "init", r); err != nil && !errors.Is(err, errParked) {
			st.discard()
			return nil, err
		}
	}

	// commit: everything declared, plus services the inits created; a
	// service the new version destroyed meanwhile is destroyed by the
	// commit, in the same sequence as at a first load
	next := append(declared, st.pending...)
	st.pending = nil
	nextRS := make([]*runtime.Service, 0, len(next))
	for _, n := range next {
		nextRS = append(nextRS, n.rs)
	}
	res := &ReloadResult{}
	paired := map[*svc]bool{}
	for _, p := range pairs {
		paired[p.new] = true
		if p.new.rs.DestroyPending() {
			res.Removed = append(res.Removed, p.new.rs.Binding().Name())
		} else {
			res.Kept = append(res.Kept, p.new.rs.Binding().Name())
		}
	}
	var removeRS []*runtime.Service
	for _, o := range old.svcs {
		if o.rs.Registered() && !matched[o] {
			removeRS = append(removeRS, o.rs)
			res.Removed = append(res.Removed, o.rs.Binding().Name())
		}
	}
	for _, n := range next {
		if !paired[n] && !n.rs.DestroyPending() {
			res.Added = append(res.Added, n.rs.Binding().Name())
		}
	}
	if err := sc.agent.Commit(nextRS, removeRS); err != nil {
		st.discard()
		return nil, err
	}
	st.reloading = false
	sc.st = st
	old.retire(drain)
	return res, nil
}

// snapshot runs the snapshot hook of an old service and returns what it
// hands over as plain data (nil for nothing). A snapshot may not destroy
// its service, nor wait for an answer.
func (st *state) snapshot(sv *svc) (any, error) {
	st.snapshotting = true
	v, err := st.runSync(sv, "snapshot")
	st.snapshotting = false
	if err != nil || v == nil {
		return nil, err
	}
	data, err := FromLua(v, "snapshot")
	if err != nil {
		return nil, &ScriptError{File: st.sc.display, Msg: "snapshot of " + sv.rs.Binding().Name() + " cannot be handed over: " + err.Error()}
	}
	return data, nil
}

// replaceIfSnapshotFails reports whether a new version's service asked to
// replace its predecessor even when the predecessor's snapshot fails.
func replaceIfSnapshotFails(sv *svc) bool {
	return lua.LVAsBool(sv.tbl.RawGetString("replaceIfSnapshotFails"))
}

// errParked says that a hook run by runSync waits for an answer: it goes
// on later like any callback.
var errParked = errors.New("the hook waits for an answer")

// runSync runs the hook name of sv now and returns its first result, or
// the error it raised as a *ScriptError. A hook that waits in call returns
// errParked; one that does not exist returns nil, nil.
func (st *state) runSync(sv *svc, name string, args ...lua.LValue) (lua.LValue, error) {
	fn, ok := st.L.GetField(sv.tbl, name).(*lua.LFunction)
	if !ok {
		return nil, nil
	}
	var (
		done   bool
		result lua.LValue = lua.LNil
		failed error
	)
	c := st.acquire(sv, name)
	c.onDone = func(c *co, rets []lua.LValue, errv lua.LValue) {
		done = true
		if errv != nil {
			failed = st.hookError(sv, name, c, errv)
			return
		}
		if len(rets) > 0 {
			result = rets[0]
		}
	}
	st.start(c, fn, append([]lua.LValue{sv.tbl}, args...)...)
	switch {
	case failed != nil:
		return nil, failed
	case !done:
		if name == "snapshot" {
			return nil, &ScriptError{File: st.sc.display, Msg: "snapshot of " + sv.rs.Binding().Name() + " must return without waiting for an answer"}
		}
		c.onDone = nil // it goes on as an ordinary callback
		return nil, errParked
	}
	return result, nil
}

// hookError describes an error raised by a hook, with file and line.
func (st *state) hookError(sv *svc, name string, c *co, errv lua.LValue) *ScriptError {
	se := &ScriptError{File: st.sc.display, Msg: fmt.Sprintf("%s of %s: %s", name, sv.rs.Binding().Name(), errorText(errv))}
	if f := firstLuaFrame(c.trace); f != nil {
		se.File, se.Line = f.source, f.line
		if line, rest, ok := splitWhere(errorText(errv), f.source); ok && line == f.line {
			se.Msg = fmt.Sprintf("%s of %s: %s", name, sv.rs.Binding().Name(), rest)
		}
	}
	if len(c.trace) > 0 {
		se.Traceback = formatTrace(c.trace)
	}
	return se
}

// discard drops a state that never took over: its services were held and
// leave no trace.
func (st *state) discard() {
	for _, sv := range st.svcs {
		sv.rs.SetHooks(runtime.Hooks{})
		sv.rs.Dispose()
	}
	st.close()
}

// retire lets the old state finish the callbacks that wait for answers,
// for at most drain, and then disposes of it.
func (st *state) retire(drain time.Duration) {
	st.retired = true
	if !st.busy() {
		st.finish()
		return
	}
	st.sc.draining = append(st.sc.draining, st)
	st.drainTimer = time.AfterFunc(drain, func() { _ = st.agent.Post(st.finish) })
}

// busy reports whether a retired state still has work: a coroutine parked
// in call, or a request it took and has not answered.
func (st *state) busy() bool {
	for _, c := range st.cos {
		if c.waiting {
			return true
		}
	}
	for _, sv := range st.svcs {
		if sv.rs.Unanswered() > 0 || sv.rs.Waiting() > 0 {
			return true
		}
	}
	return false
}

// finish ends a retired state: unanswered requests fail ("service
// reloaded"), the Lua state is closed.
func (st *state) finish() {
	if st.closed {
		return
	}
	if st.drainTimer != nil {
		st.drainTimer.Stop()
	}
	for _, sv := range st.svcs {
		if sv.rs.Retired() {
			sv.rs.Dispose()
		} else {
			sv.rs.Destroy() // nothing should be left registered, but be sure
		}
	}
	st.close()
	sc := st.sc
	for i, d := range sc.draining {
		if d == st {
			sc.draining = append(sc.draining[:i], sc.draining[i+1:]...)
			break
		}
	}
}
