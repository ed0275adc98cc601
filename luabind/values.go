package luabind

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// MaxDepth is how deeply tables may nest in a value that crosses between
// services.
const MaxDepth = 64

// maxExactInt is the largest integer a Lua number (float64) holds exactly.
const maxExactInt = 1 << 53

// ValueError says why a Lua value cannot be sent, and where in it.
type ValueError struct {
	Path string // e.g. content.items[3].f
	Msg  string // e.g. function cannot be sent

	root     string
	segments []string // innermost first, collected while the error unwinds
	deep     bool     // the depth limit was hit
}

func (e *ValueError) Error() string { return e.Path + ": " + e.Msg }

// setPath sets Path from root and the collected segments.
func (e *ValueError) setPath(root string) {
	e.root = root
	var b strings.Builder
	b.WriteString(root)
	for i := len(e.segments) - 1; i >= 0; i-- {
		b.WriteString(e.segments[i])
	}
	e.Path = b.String()
	e.segments = nil
}

// FromLua converts a Lua value to plain Go data: nil, bool, int64 (for
// integral numbers within ±2^53), float64, string, []any (for tables with
// keys 1..n), map[string]any (for tables with string keys; an empty table
// too). Anything else is a *ValueError naming the path from root.
func FromLua(v lua.LValue, root string) (any, error) {
	x, err := fromLua(v, 0)
	if err != nil {
		err.setPath(root)
		if err.deep {
			findCycle(v, err) // a cycle also ends at the depth limit: say which it is
		}
		return nil, err
	}
	return x, nil
}

// fromLua converts v. The error path is built only while an error
// unwinds, so a successful conversion spends nothing on it.
func fromLua(v lua.LValue, depth int) (any, *ValueError) {
	switch v := v.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LBool:
		return bool(v), nil
	case lua.LNumber:
		return numberFromLua(v), nil
	case lua.LString:
		return string(v), nil
	case *lua.LTable:
		if v.Metatable != lua.LNil && svcOf(v) != nil {
			return nil, &ValueError{Msg: "a service object cannot be sent (send its name or serviceAddress())"}
		}
		if depth >= MaxDepth {
			return nil, &ValueError{Msg: fmt.Sprintf("tables nested deeper than %d", MaxDepth), deep: true}
		}
		return tableFromLua(v, depth)
	}
	return nil, &ValueError{Msg: v.Type().String() + " cannot be sent"}
}

func numberFromLua(n lua.LNumber) any {
	f := float64(n)
	if f == math.Trunc(f) && f >= -maxExactInt && f <= maxExactInt {
		return int64(f)
	}
	return f
}

// tableFromLua converts a table in one pass: string keys go to a map,
// integer keys to an array; a mix, or holes, are refused at the end.
func tableFromLua(t *lua.LTable, depth int) (any, *ValueError) {
	var (
		m      map[string]any
		arr    []any
		maxIdx int
		nNum   int
		err    *ValueError
	)
	t.ForEach(func(k, v lua.LValue) {
		if err != nil {
			return
		}
		switch k := k.(type) {
		case lua.LString:
			x, e := fromLua(v, depth+1)
			if e != nil {
				e.segments = append(e.segments, keySegment(string(k)))
				err = e
				return
			}
			if m == nil {
				m = make(map[string]any)
			}
			m[string(k)] = x
		case lua.LNumber:
			f := float64(k)
			if f != math.Trunc(f) || f < 1 || f > math.MaxInt32 {
				err = &ValueError{Msg: "has key " + lua.LVAsString(k) + " (keys must be 1..n or strings)"}
				return
			}
			i := int(f)
			nNum++
			maxIdx = max(maxIdx, i)
			if i > 2*len(arr)+8 {
				return // far beyond the end: a sparse array, refused below
			}
			x, e := fromLua(v, depth+1)
			if e != nil {
				e.segments = append(e.segments, "["+strconv.Itoa(i)+"]")
				err = e
				return
			}
			if i > len(arr) {
				arr = append(arr, make([]any, i-len(arr))...)
			}
			arr[i-1] = x
		default:
			err = &ValueError{Msg: "has a " + k.Type().String() + " key (keys must be 1..n or strings)"}
		}
	})
	switch {
	case err != nil:
		return nil, err
	case nNum > 0 && m != nil:
		return nil, &ValueError{Msg: "mixes array and string keys"}
	case nNum > 0 && (maxIdx != nNum || maxIdx != len(arr)):
		return nil, &ValueError{Msg: fmt.Sprintf("is a sparse array (%d elements, largest index %d)", nNum, maxIdx)}
	case nNum > 0:
		return arr, nil
	case m == nil:
		return map[string]any{}, nil
	}
	return m, nil
}

func keySegment(k string) string {
	if isIdent(k) {
		return "." + k
	}
	return "[" + strconv.Quote(k) + "]"
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r != '_' && !(r >= 'a' && r <= 'z') && !(r >= 'A' && r <= 'Z') && !(i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// findCycle walks v again, tracking the tables on the current path; if a
// table repeats, err becomes a cycle error naming where.
func findCycle(v lua.LValue, err *ValueError) {
	var seen []*lua.LTable
	var walk func(v lua.LValue, path string) bool
	walk = func(v lua.LValue, path string) bool {
		t, ok := v.(*lua.LTable)
		if !ok || len(seen) > MaxDepth {
			return false
		}
		if slices.Contains(seen, t) {
			err.Path, err.Msg = path, "table contains itself (a cycle) and cannot be sent"
			return true
		}
		seen = append(seen, t)
		found := false
		t.ForEach(func(k, x lua.LValue) {
			if found {
				return
			}
			switch k := k.(type) {
			case lua.LString:
				found = walk(x, path+keySegment(string(k)))
			case lua.LNumber:
				found = walk(x, path+"["+lua.LVAsString(k)+"]")
			}
		})
		seen = seen[:len(seen)-1]
		return found
	}
	walk(v, err.root)
}

// ToLua converts plain Go data to a Lua value, building fresh tables.
// Types outside the plain set are converted with fmt's %v into a string,
// so a Go embedder's mistake shows up as text rather than a crash.
func ToLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case map[string]any:
		t := L.CreateTable(0, len(v))
		for k, x := range v {
			t.RawSetString(k, ToLua(L, x))
		}
		return t
	case []any:
		t := L.CreateTable(len(v), 0)
		for i, x := range v {
			t.RawSetInt(i+1, ToLua(L, x))
		}
		return t
	case int:
		return lua.LNumber(v)
	case int32:
		return lua.LNumber(v)
	case uint64:
		return lua.LNumber(v)
	case float32:
		return lua.LNumber(v)
	case []string:
		t := L.CreateTable(len(v), 0)
		for i, x := range v {
			t.RawSetInt(i+1, lua.LString(x))
		}
		return t
	}
	return lua.LString(fmt.Sprintf("%v", v))
}
