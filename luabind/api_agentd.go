package luabind

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/agentd/agentd/internal/logging"
	"github.com/agentd/agentd/runtime"
	lua "github.com/yuin/gopher-lua"
)

// constants of the agentd module, with OSE's names and numbers.
var constants = map[string]int{
	"SERVICE_AVAILABLE":      int(runtime.Available),
	"SERVICE_WITHDRAWN":      int(runtime.Withdrawn),
	"SUBSCRIPTION_REQUESTED": int(runtime.SubscriptionRequested),
	"SUBSCRIPTION_WITHDRAWN": int(runtime.SubscriptionWithdrawn),
	"CONNECTION_ACTIVE":      0,
	"CONNECTION_INACTIVE":    1,
	"SHUTDOWN_PENDING":       int(runtime.ShutdownPending),
	"SHUTDOWN_ARRIVED":       int(runtime.ShutdownArrived),
	"IDLE_JOB":               int(runtime.IdleJob),
	"STANDARD_JOB":           int(runtime.StandardJob),
	"PRIORITY_JOB":           int(runtime.PriorityJob),
	"SERVICE_LOCAL":          int(runtime.Local),
	"SERVICE_REMOTE":         int(runtime.Remote),
	"LOG_EMERGENCY":          0,
	"LOG_ALERT":              1,
	"LOG_CRITICAL":           2,
	"LOG_ERROR":              3,
	"LOG_WARNING":            4,
	"LOG_NOTICE":             5,
	"LOG_INFO":               6,
	"LOG_DEBUG":              7,

	"CLIENT_UNKNOWN_ERROR":            runtime.ClientUnknownError,
	"CLIENT_RESOURCE_UNAVAILABLE":     runtime.ClientResourceUnavailable,
	"CLIENT_REQUEST_ENCODING_ERROR":   runtime.ClientRequestEncodingError,
	"CLIENT_RESPONSE_HEADERS_INVALID": runtime.ClientResponseHeadersInvalid,
	"CLIENT_RESPONSE_DECODING_ERROR":  runtime.ClientResponseDecodingError,
	"CLIENT_SERVICE_ADDRESS_INVALID":  runtime.ClientServiceAddressInvalid,
	"CLIENT_SERVICE_UNAVAILABLE":      runtime.ClientServiceUnavailable,
	"CLIENT_REQUEST_TIMEOUT":          runtime.ClientRequestTimeout,
	"CLIENT_REQUEST_ABORTED":          runtime.ClientRequestAborted,
	"SERVER_UNKNOWN_ERROR":            runtime.ServerUnknownError,
	"SERVER_RESOURCE_UNAVAILABLE":     runtime.ServerResourceUnavailable,
	"SERVER_RESPONSE_ENCODING_ERROR":  runtime.ServerResponseEncodingError,
	"SERVER_REQUEST_HEADERS_INVALID":  runtime.ServerRequestHeadersInvalid,
	"SERVER_REQUEST_DECODING_ERROR":   runtime.ServerRequestDecodingError,
	"SERVER_METHOD_UNAVAILABLE":       runtime.ServerMethodUnavailable,
	"SERVER_PARAMETERS_INCORRECT":     runtime.ServerParametersIncorrect,
	"SERVER_APPLICATION_ERROR":        runtime.ServerApplicationError,
	"SERVER_RESPONSE_ABORTED":         runtime.ServerResponseAborted,
}

func agentdFunctions() map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"service":         apiService,
		"processIdentity": func(L *lua.LState) int { return pushStr(L, stateOf(L).h.rt.ProcessIdentity()) },
		"uniqueId":        func(L *lua.LState) int { return pushStr(L, stateOf(L).h.rt.UniqueID()) },
		"time": func(L *lua.LState) int {
			L.Push(epochSeconds(time.Now()))
			return 1
		},
		"scheduleShutdown": func(L *lua.LState) int {
			st := stateOf(L)
			st.h.rt.ScheduleShutdown(checkSeconds(L, 1, -1))
			return 0
		},
		"matchSubject": func(L *lua.LState) int { return matchSubject(L, 1) },
		"copy":         apiCopy,
	}
}

// apiService is agentd.service(name [, audience]) or
// agentd.service{name=, audience=, groups={...}}.
func apiService(L *lua.LState) int {
	st := stateOf(L)
	cfg := runtime.ServiceConfig{Audience: runtime.AudienceAll}
	switch v := L.Get(1).(type) {
	case *lua.LNilType:
	case lua.LString:
		cfg.Name = string(v)
		cfg.Audience = L.OptString(2, runtime.AudienceAll)
	case *lua.LTable:
		v.ForEach(func(k, x lua.LValue) {
			switch k {
			case lua.LString("name"):
				s, ok := x.(lua.LString)
				if !ok {
					L.ArgError(1, "name must be a string")
				}
				cfg.Name = string(s)
			case lua.LString("audience"):
				s, ok := x.(lua.LString)
				if !ok {
					L.ArgError(1, "audience must be a string")
				}
				cfg.Audience = string(s)
			case lua.LString("groups"):
				t, ok := x.(*lua.LTable)
				if !ok {
					L.ArgError(1, "groups must be an array of strings")
				}
				for i := 1; i <= t.Len(); i++ {
					g, ok := t.RawGetInt(i).(lua.LString)
					if !ok || g == "" {
						L.ArgError(1, "groups must be an array of non-empty strings")
					}
					cfg.Groups = append(cfg.Groups, string(g))
				}
			default:
				L.ArgError(1, "unknown field "+lua.LVAsString(k)+" (want name, audience, groups)")
			}
		})
	default:
		L.ArgError(1, "expected a service name or a table {name=, audience=, groups=}")
	}
	if st.retired {
		L.RaiseError("service: this version of the script has been replaced; it cannot create services")
	}
	sv, err := st.newSvc(cfg)
	if err != nil {
		L.RaiseError("service: the agent is stopping; no new service can be created")
	}
	if st.loading || st.depth > 0 {
		st.pending = append(st.pending, sv)
	} else {
		if err := sv.rs.Register(); err != nil {
			L.RaiseError("service: %s", err.Error())
		}
		st.hook(sv, "init", lua.LNil)
	}
	L.Push(sv.tbl)
	return 1
}

// logFunctions are agentd.log.debug … agentd.log.emergency and notify.
func logFunctions() map[string]lua.LGFunction {
	m := map[string]lua.LGFunction{
		"notify": func(L *lua.LState) int {
			logAt(L, logging.FromOSE(L.CheckInt(1)), 2)
			return 0
		},
	}
	for _, name := range []string{"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"} {
		level, _ := logging.ParseLevel(name)
		m[name] = func(L *lua.LState) int {
			logAt(L, level, 1)
			return 0
		}
	}
	return m
}

// logAt logs the message at argument n, with the fields table at n+1.
func logAt(L *lua.LState, level slog.Level, n int) {
	st := stateOf(L)
	if !st.log.Enabled(context.Background(), level) {
		return // the fields are not even converted: logging below the level costs nothing
	}
	msg := L.ToStringMeta(L.Get(n)).String()
	var attrs []slog.Attr
	if L.Get(n+1) != lua.LNil {
		fields, ok := value(L, "log", n+1, "fields").(map[string]any)
		if !ok {
			L.ArgError(n+1, "fields must be a table with string keys")
		}
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			attrs = append(attrs, slog.Any(k, fields[k]))
		}
	}
	if c := st.rootCo(L); c != nil && c.sv != nil {
		attrs = append(attrs, slog.String("service", c.sv.rs.Binding().Name()))
	}
	st.log.LogAttrs(context.Background(), level, msg, attrs...)
}

// apiCopy is agentd.copy(v): a new plain table with the content of a
// read-only view or of a table (deeply, as a report would carry it); any
// other value is returned as it is.
func apiCopy(L *lua.LState) int {
	v := L.CheckAny(1)
	_, isView := viewValue(v)
	switch v.(type) {
	case *lua.LTable:
	default:
		if !isView {
			L.Push(v)
			return 1
		}
	}
	{
		st := stateOf(L)
		x, err := st.conv.fromLua(v, "value")
		if err != nil {
			L.ArgError(1, err.Error())
		}
		L.Push(st.conv.toLua(L, x))
	}
	return 1
}
