package luabind

import (
	"time"

	"github.com/agentd/agentd/internal/subject"
	"github.com/agentd/agentd/runtime"
	lua "github.com/yuin/gopher-lua"
)

func reportMethods() map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"publishReport": func(L *lua.LState) int {
			sv := self(L)
			content := sv.st.content(L, "publishReport", 3, "content")
			if subj, ok := L.Get(2).(lua.LString); ok {
				sv.rs.Publish(string(subj), content, lifetime(L, 4))
			} else {
				sv.rs.PublishMany(subjects(L, 2), content, lifetime(L, 4))
			}
			return 0
		},
		"sendReport": func(L *lua.LState) int {
			sv := self(L)
			var to *runtime.Binding
			switch v := L.Get(2).(type) {
			case *lua.LUserData:
				to, _ = v.Value.(*runtime.Binding)
			case *lua.LTable:
				if o := svcOf(v); o != nil {
					to = o.rs.Binding()
				}
			}
			if to == nil {
				L.ArgError(2, "expected the subscriber's binding")
			}
			subj := L.CheckString(3)
			content := sv.st.content(L, "sendReport", 4, "content")
			L.Push(lua.LBool(sv.rs.SendReport(to, subj, content) > 0))
			return 1
		},
		"monitorReports": func(L *lua.LState) int {
			sv, fn := self(L), checkFn(L, 2)
			st := sv.st
			tgt := st.target(L, 3)
			pattern := L.CheckString(4)
			view := monitorOptions(L, 5)
			sv.rs.MonitorReports(tgt, pattern, func(r runtime.Report) {
				st.deliverReport(sv, fn, r, view)
			})
			return 0
		},
		"ignoreReports": func(L *lua.LState) int {
			sv := self(L)
			tgt := sv.st.target(L, 2)
			if L.Get(3) == lua.LNil {
				sv.rs.IgnoreReports(tgt)
			} else {
				sv.rs.IgnoreReports(tgt, L.CheckString(3))
			}
			return 0
		},
		"currentReport": func(L *lua.LState) int {
			sv := self(L)
			c := sv.st.rootCo(L)
			if c == nil || !c.hasReport {
				L.Push(lua.LNil)
				return 1
			}
			t := L.CreateTable(0, 5)
			t.RawSetString("publisher", sv.st.bindingUD(c.report.Publisher))
			t.RawSetString("subject", lua.LString(c.report.Subject))
			t.RawSetString("pattern", lua.LString(c.report.Pattern))
			t.RawSetString("content", c.content)
			t.RawSetString("time", epochSeconds(c.report.Time))
			L.Push(t)
			return 1
		},
		"expireReports": func(L *lua.LState) int {
			self(L).rs.ExpireReports(L.CheckString(2), checkSeconds(L, 3, 0))
			return 0
		},
		"expireAllReports": func(L *lua.LState) int {
			self(L).rs.ExpireAllReports(checkSeconds(L, 2, 0))
			return 0
		},
		"purgeReports": func(L *lua.LState) int {
			self(L).rs.PurgeReports()
			return 0
		},
	}
}

// monitorOptions reads monitorReports' options table at argument n:
// {view = true} asks for read-only views of content.
func monitorOptions(L *lua.LState, n int) (view bool) {
	switch o := L.Get(n).(type) {
	case *lua.LNilType:
		return false
	case *lua.LTable:
		for k, v := L.Next(o, lua.LNil); k != lua.LNil; k, v = L.Next(o, k) {
			if k != lua.LString("view") {
				L.ArgError(n, "unknown option "+lua.LVAsString(k)+" (want view)")
			}
			b, ok := v.(lua.LBool)
			if !ok {
				L.ArgError(n, "view must be true or false")
			}
			view = bool(b)
		}
		return view
	}
	L.ArgError(n, "expected an options table, got "+L.Get(n).Type().String())
	return false
}

// deliverReport runs a report callback: cb(self, publisher, subject,
// content), with content as a read-only view if asked for.
func (st *state) deliverReport(sv *svc, fn *lua.LFunction, r runtime.Report, view bool) {
	if st.closed {
		return
	}
	var content lua.LValue
	if view {
		content = st.newView(r.Content)
	} else {
		content = st.conv.toLua(st.L, r.Content)
	}
	c := st.acquire(sv, "report")
	c.report, c.hasReport, c.content = r, true, content
	st.start(c, fn, sv.tbl, st.bindingUD(r.Publisher), st.conv.str(r.Subject), content)
}

// subjects reads argument n: a subject, or an array of subjects.
func subjects(L *lua.LState, n int) []string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		return []string{string(v)}
	case *lua.LTable:
		out := make([]string, 0, v.Len())
		for i := 1; i <= v.Len(); i++ {
			s, ok := v.RawGetInt(i).(lua.LString)
			if !ok {
				L.ArgError(n, "subjects must be strings")
			}
			out = append(out, string(s))
		}
		if len(out) == 0 {
			L.ArgError(n, "no subject given")
		}
		return out
	}
	L.ArgError(n, "expected a subject or an array of subjects")
	return nil
}

// lifetime reads a report lifetime in seconds: 0 (default) no cache, -1
// forever, a positive number that long.
func lifetime(L *lua.LState, n int) time.Duration {
	if L.Get(n) == lua.LNil {
		return 0
	}
	v := L.CheckNumber(n)
	if v == -1 {
		return runtime.Forever
	}
	return seconds(L, n, v)
}

func epochSeconds(t time.Time) lua.LNumber {
	return lua.LNumber(float64(t.UnixNano()) / 1e9)
}

func matchSubject(L *lua.LState, n int) int {
	L.Push(lua.LBool(subject.Match(L.CheckString(n), L.CheckString(n+1))))
	return 1
}
