package luabind

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unsafe"

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
	return (*converter)(nil).fromLua(v, root)
}

// fromLua is FromLua with this converter's savings (c may be nil).
func (c *converter) fromLua(v lua.LValue, root string) (any, error) {
	x, err := c.from(v, 0)
	if err != nil && (c == nil || !c.ordered) {
		// find the error tables show first in their own key order
		if _, e := (&converter{ordered: true}).from(v, 0); e != nil {
			err = e
		}
	}
	if err != nil {
		err.setPath(root)
		if err.deep {
			findCycle(v, err) // a cycle also ends at the depth limit: say which it is
		}
		return nil, err
	}
	return x, nil
}

// from converts lv. The error path is built only while an error
// unwinds, so a successful conversion spends nothing on it.
func (c *converter) from(lv lua.LValue, depth int) (any, *ValueError) {
	switch v := lv.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LBool:
		return bool(v), nil
	case lua.LNumber:
		if c == nil {
			return numberFromLua(v), nil
		}
		f := float64(v)
		if f == math.Trunc(f) && f >= -maxExactInt && f <= maxExactInt {
			return c.integer(int64(f)), nil
		}
		return anyFromWord(float64Type, &lv), nil
	case lua.LString:
		if c == nil {
			return string(v), nil
		}
		return anyFromWord(stringType, &lv), nil
	case *lua.LTable:
		if v.Metatable != lua.LNil && svcOf(v) != nil {
			return nil, &ValueError{Msg: "a service object cannot be sent (send its name or serviceAddress())"}
		}
		if depth >= MaxDepth {
			return nil, &ValueError{Msg: fmt.Sprintf("tables nested deeper than %d", MaxDepth), deep: true}
		}
		return c.tableFrom(v, depth)
	case *lua.LUserData:
		if x, ok := viewValue(v); ok {
			return x, nil // the content it shows, shared as it was delivered
		}
	}
	return nil, &ValueError{Msg: lv.Type().String() + " cannot be sent"}
}

func numberFromLua(n lua.LNumber) any {
	f := float64(n)
	if f == math.Trunc(f) && f >= -maxExactInt && f <= maxExactInt {
		return int64(f)
	}
	return f
}

// tableFromLua converts a table: its array part (1..n) becomes a slice,
// its string keys a map; a mix, holes and other keys are refused. It reads
// the array part with RawGetInt and the rest with Next, which hands out
// the table's own key values: gopher-lua's ForEach would allocate a new
// boxed key for every entry.
func (c *converter) tableFrom(t *lua.LTable, depth int) (any, *ValueError) {
	n := t.Len()
	var arr []any
	holes := 0
	if n > 0 {
		arr = make([]any, n)
		for i := 1; i <= n; i++ {
			v := t.RawGetInt(i)
			if v == lua.LNil {
				holes++
				continue
			}
			x, err := c.from(v, depth+1)
			if err != nil {
				err.segments = append(err.segments, "["+strconv.Itoa(i)+"]")
				return nil, err
			}
			arr[i-1] = x
		}
	}
	if n == 0 && fastTables && (c == nil || !c.ordered) {
		if m, ok, err := c.mapFrom(t, depth); ok {
			return m, err
		}
	}
	var (
		m      map[string]any
		extra  []int // integer keys beyond the array part
		maxIdx = n
	)
	var k, v lua.LValue
	if n > 0 {
		k, v = t.Next(lua.LNumber(n))
	} else {
		k, v = t.Next(lua.LNil)
	}
	for ; k != lua.LNil; k, v = t.Next(k) {
		switch key := k.(type) {
		case lua.LString:
			x, err := c.from(v, depth+1)
			if err != nil {
				err.segments = append(err.segments, keySegment(string(key)))
				return nil, err
			}
			if m == nil {
				m = make(map[string]any, 8)
			}
			m[string(key)] = x
		case lua.LNumber:
			f := float64(key)
			if f != math.Trunc(f) || f < 1 || f > math.MaxInt32 {
				return nil, &ValueError{Msg: "has key " + lua.LVAsString(key) + " (keys must be 1..n or strings)"}
			}
			extra = append(extra, int(f))
			maxIdx = max(maxIdx, int(f))
		default:
			return nil, &ValueError{Msg: "has a " + k.Type().String() + " key (keys must be 1..n or strings)"}
		}
	}
	count := n - holes + len(extra)
	switch {
	case count > 0 && m != nil:
		return nil, &ValueError{Msg: "mixes array and string keys"}
	case maxIdx != count:
		return nil, &ValueError{Msg: fmt.Sprintf("is a sparse array (%d elements, largest index %d)", count, maxIdx)}
	case len(extra) > 0:
		// keys 1..count without holes, some of them stored in the hash part
		full := make([]any, count)
		copy(full, arr)
		for _, i := range extra {
			x, err := c.from(t.RawGetInt(i), depth+1)
			if err != nil {
				err.segments = append(err.segments, "["+strconv.Itoa(i)+"]")
				return nil, err
			}
			full[i-1] = x
		}
		return full, nil
	case n > 0:
		return arr, nil
	case m == nil:
		return map[string]any{}, nil
	}
	return m, nil
}

// mapFrom converts a table that has string keys only, reading gopher-lua's
// string map directly (Next looks every key up twice) into a map of the
// right size; ok is false for any other table. Its errors depend on Go's
// map order: fromLua converts again in order to report the first one.
func (c *converter) mapFrom(t *lua.LTable, depth int) (m map[string]any, ok bool, err *ValueError) {
	tl := (*tableLayout)(unsafe.Pointer(t))
	if len(tl.dict) > 0 || len(tl.strdict) == 0 {
		return nil, false, nil
	}
	m = make(map[string]any, len(tl.strdict))
	for k, v := range tl.strdict {
		if v == lua.LNil {
			continue
		}
		x, err := c.from(v, depth+1)
		if err != nil {
			return nil, true, err
		}
		m[k] = x
	}
	return m, true, nil
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
	return (*converter)(nil).toLua(L, v)
}

// otherToLua converts the Go types outside the plain set that Go
// embedders commonly pass.
func otherToLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
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
