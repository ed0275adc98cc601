package luabind

import (
	"fmt"
	"math"
	"slices"
	"strconv"

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
}

func (e *ValueError) Error() string { return e.Path + ": " + e.Msg }

// FromLua converts a Lua value to plain Go data: nil, bool, int64 (for
// integral numbers within ±2^53), float64, string, []any (for tables with
// keys 1..n), map[string]any (for tables with string keys; an empty table
// too). Anything else is a *ValueError naming the path from root.
func FromLua(v lua.LValue, root string) (any, error) {
	c := converter{}
	return c.value(v, pathRoot(root), 0)
}

type converter struct {
	seen []*lua.LTable // tables on the current path, to find cycles
}

// path is built lazily: only an error needs its text.
type path struct {
	parent *path
	key    string
	index  int // when key == "" and parent != nil
}

func pathRoot(name string) *path { return &path{key: name} }

func (p *path) String() string {
	if p.parent == nil {
		return p.key
	}
	if p.key != "" {
		if isIdent(p.key) {
			return p.parent.String() + "." + p.key
		}
		return p.parent.String() + "[" + strconv.Quote(p.key) + "]"
	}
	return p.parent.String() + "[" + strconv.Itoa(p.index) + "]"
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

func (c *converter) value(v lua.LValue, p *path, depth int) (any, error) {
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
		return c.table(v, p, depth)
	}
	return nil, &ValueError{Path: p.String(), Msg: v.Type().String() + " cannot be sent"}
}

func numberFromLua(n lua.LNumber) any {
	f := float64(n)
	if f == math.Trunc(f) && f >= -maxExactInt && f <= maxExactInt {
		return int64(f)
	}
	return f
}

func (c *converter) table(t *lua.LTable, p *path, depth int) (any, error) {
	if depth >= MaxDepth {
		return nil, &ValueError{Path: p.String(), Msg: fmt.Sprintf("tables nested deeper than %d", MaxDepth)}
	}
	if slices.Contains(c.seen, t) {
		return nil, &ValueError{Path: p.String(), Msg: "table contains itself (a cycle) and cannot be sent"}
	}
	c.seen = append(c.seen, t)
	defer func() { c.seen = c.seen[:len(c.seen)-1] }()

	// First pass: classify the keys.
	var nNum, nStr, maxIdx int
	var bad lua.LValue
	badMsg := ""
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		switch k := k.(type) {
		case lua.LString:
			nStr++
		case lua.LNumber:
			f := float64(k)
			if f != math.Trunc(f) || f < 1 || f > math.MaxInt32 {
				bad, badMsg = k, "has key "+lua.LVAsString(k)+" (keys must be 1..n or strings)"
				continue
			}
			nNum++
			maxIdx = max(maxIdx, int(f))
		default:
			bad, badMsg = k, "has a "+k.Type().String()+" key (keys must be 1..n or strings)"
		}
	}
	switch {
	case bad != nil:
		return nil, &ValueError{Path: p.String(), Msg: badMsg}
	case nNum > 0 && nStr > 0:
		return nil, &ValueError{Path: p.String(), Msg: "mixes array and string keys"}
	case nNum > 0 && maxIdx != nNum:
		return nil, &ValueError{Path: p.String(), Msg: fmt.Sprintf("is a sparse array (%d elements, largest index %d)", nNum, maxIdx)}
	case nNum > 0:
		out := make([]any, nNum)
		for i := 1; i <= nNum; i++ {
			x, err := c.value(t.RawGetInt(i), &path{parent: p, index: i}, depth+1)
			if err != nil {
				return nil, err
			}
			out[i-1] = x
		}
		return out, nil
	}
	out := make(map[string]any, nStr)
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		ks := string(k.(lua.LString))
		x, err := c.value(v, &path{parent: p, key: ks}, depth+1)
		if err != nil {
			return nil, err
		}
		out[ks] = x
	}
	return out, nil
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
