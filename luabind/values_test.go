package luabind

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

func evalLua(t testing.TB, L *lua.LState, expr string) (lua.LValue, bool) {
	t.Helper()
	fn, err := L.LoadString("return " + expr)
	if err != nil {
		return nil, false
	}
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		return nil, false
	}
	v := L.Get(-1)
	L.Pop(1)
	return v, true
}

func TestFromLua(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	cases := []struct {
		expr string
		want any
		err  string
	}{
		{expr: "nil", want: nil},
		{expr: "true", want: true},
		{expr: "42", want: int64(42)},
		{expr: "-3", want: int64(-3)},
		{expr: "1.5", want: 1.5},
		{expr: "2^53", want: int64(1 << 53)},
		{expr: "2^53 + 2", want: float64(1<<53 + 2)},
		{expr: "1/0", want: math.Inf(1)},
		{expr: `"a\0b"`, want: "a\x00b"},
		{expr: "{}", want: map[string]any{}},
		{expr: "{1, 'x', true}", want: []any{int64(1), "x", true}},
		{expr: "{a = {b = {1, 2}}}", want: map[string]any{"a": map[string]any{"b": []any{int64(1), int64(2)}}}},
		{expr: "{items = {1, 2, {f = print}}}", err: "content.items[3].f: function cannot be sent"},
		{expr: "{1, 2, x = 3}", err: "content: mixes array and string keys"},
		{expr: "{[1] = 1, [3] = 3}", err: "content: is a sparse array (2 elements, largest index 3)"},
		{expr: "{[1.5] = 1}", err: "content: has key 1.5 (keys must be 1..n or strings)"},
		{expr: "{[true] = 1}", err: "content: has a boolean key (keys must be 1..n or strings)"},
		{expr: "{['a b'] = {print}}", err: `content["a b"][1]: function cannot be sent`},
		{expr: "coroutine.create(print)", err: "content: thread cannot be sent"},
		{expr: "(function() local t = {} t.self = t return t end)()", err: "content.self: table contains itself (a cycle) and cannot be sent"},
		{expr: "(function() local t = {} for i = 1, 70 do t = {t} end return t end)()", err: "tables nested deeper than 64"},
	}
	for _, c := range cases {
		v, ok := evalLua(t, L, c.expr)
		if !ok {
			t.Fatalf("%s does not evaluate", c.expr)
		}
		got, err := FromLua(v, "content")
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.expr, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %#v, %v; want %#v", c.expr, got, err, c.want)
		}
	}
}

// FuzzValues evaluates a Lua expression and checks that converting it
// never panics and that what converts survives a round trip unchanged.
func FuzzValues(f *testing.F) {
	for _, seed := range []string{
		"nil", "1", "1.25", "-0", "'x'", "{}", "{1,2,3}", "{a=1,b={c={1,'2',true}}}",
		"{1,nil,3}", "{[2]=1}", "{x=print}", "{[{}]=1}", "2^63", "0/0",
		"(function() local t={} t[1]=t return t end)()",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		if len(expr) > 200 || strings.ContainsAny(expr, ";") || strings.Contains(expr, "while") ||
			strings.Contains(expr, "for") || strings.Contains(expr, "repeat") || strings.Contains(expr, "function") ||
			strings.Contains(expr, "rep") {
			return // keep inputs to expressions that finish quickly
		}
		L := lua.NewState(lua.Options{SkipOpenLibs: true})
		defer L.Close()
		v, ok := evalLua(t, L, expr)
		if !ok {
			return
		}
		got, err := FromLua(v, "content")
		if err != nil {
			if _, isValueErr := err.(*ValueError); !isValueErr {
				t.Fatalf("%q: error of type %T", expr, err)
			}
			return
		}
		again, err := FromLua(ToLua(L, got), "content")
		if err != nil {
			t.Fatalf("%q: round trip failed: %v", expr, err)
		}
		if !equalValues(got, again) {
			t.Fatalf("%q: round trip changed %#v into %#v", expr, got, again)
		}
		// a state's converter gives the same values
		c := &converter{}
		viaConv, err := c.fromLua(v, "content")
		if err != nil || !equalValues(got, viaConv) {
			t.Fatalf("%q: converter gave %#v, %v; want %#v", expr, viaConv, err, got)
		}
		again, err = c.fromLua(c.toLua(L, got), "content")
		if err != nil || !equalValues(got, again) {
			t.Fatalf("%q: converter round trip gave %#v, %v; want %#v", expr, again, err, got)
		}
	})
}

// TestFastTables checks that tables the converter fills directly behave
// as tables filled through gopher-lua's API: reading, iterating, and
// changing them afterwards (new keys, removed keys) from Lua.
func TestFastTables(t *testing.T) {
	if !fastTables {
		t.Fatal("gopher-lua's LTable no longer has the layout convert.go mirrors: check tableLayout against the new version")
	}
	L := lua.NewState(stateOptions)
	defer L.Close()
	lua.OpenBase(L)
	lua.OpenTable(L)
	c := &converter{}
	content := map[string]any{"seq": int64(123456), "name": "sensor", "ok": true, "value": 1.5, "none": nil,
		"list": []any{int64(1), "two"}, "nested": map[string]any{"x": int64(-7)}}
	for round := range 3 { // the second and third rounds use the interned keys
		tbl := c.toLua(L, content)
		L.SetGlobal("t", tbl)
		if err := L.DoString(`
			local keys = {}
			for k, v in pairs(t) do keys[#keys + 1] = k .. "=" .. tostring(type(v) == "table" and #v or v) end
			table.sort(keys)
			before = table.concat(keys, " ")
			t.seq = nil
			t.added = "new"
			t.name = "changed"
			keys = {}
			for k, v in pairs(t) do keys[#keys + 1] = k .. "=" .. tostring(type(v) == "table" and #v or v) end
			table.sort(keys)
			after = table.concat(keys, " ")
			nested = t.nested.x .. " " .. t.list[2] .. " " .. tostring(next({}))
		`); err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]string{
			"before": "list=2 name=sensor nested=0 ok=true seq=123456 value=1.5",
			"after":  "added=new list=2 name=changed nested=0 ok=true value=1.5",
			"nested": "-7 two nil",
		} {
			if got := L.GetGlobal(name).String(); got != want {
				t.Errorf("round %d: %s = %q, want %q", round, name, got, want)
			}
		}
		if content["seq"] != int64(123456) || content["name"] != "sensor" {
			t.Fatalf("changing the table changed the Go value: %v", content)
		}
	}
	if len(c.strs) == 0 {
		t.Error("no key was interned")
	}

	// Tables of the same keys share a shape; other keys of the same count
	// do not; adding a key to one table changes no other.
	keysOf := func(v lua.LValue) string {
		L.SetGlobal("t", v)
		if err := L.DoString(`
			local keys = {}
			for k, v in pairs(t) do keys[#keys + 1] = k .. "=" .. tostring(v) end
			table.sort(keys)
			result = table.concat(keys, " ")`); err != nil {
			t.Fatal(err)
		}
		return L.GetGlobal("result").String()
	}
	first := c.toLua(L, map[string]any{"a": int64(1), "b": int64(2)})
	second := c.toLua(L, map[string]any{"a": int64(3), "b": int64(4)})
	if c.shape == nil {
		t.Fatal("no shape was kept")
	}
	other := c.toLua(L, map[string]any{"a": int64(5), "c": int64(6)})
	first.(*lua.LTable).RawSetString("added", lua.LTrue)
	for v, want := range map[lua.LValue]string{first: "a=1 added=true b=2", second: "a=3 b=4", other: "a=5 c=6"} {
		if got := keysOf(v); got != want {
			t.Errorf("table has %q, want %q", got, want)
		}
	}
	if got := keysOf(c.toLua(L, map[string]any{"a": int64(7), "b": int64(8)})); got != "a=7 b=8" {
		t.Errorf("after another shape: %q", got)
	}
}

// equalValues is reflect.DeepEqual, except that NaN equals NaN.
func equalValues(a, b any) bool {
	if x, ok := a.(float64); ok {
		if y, ok := b.(float64); ok && math.IsNaN(x) && math.IsNaN(y) {
			return true
		}
	}
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalValues(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k := range x {
			if !equalValues(x[k], y[k]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func TestStrftime(t *testing.T) {
	// 2026-03-08 14:05:09 UTC, a Sunday, day 67, ISO week 10
	tm := time.Date(2026, 3, 8, 14, 5, 9, 0, time.UTC)
	for format, want := range map[string]string{
		"%a %A %b %B":    "Sun Sunday Mar March",
		"%c":             "Sun Mar  8 14:05:09 2026",
		"%d %e %j %m %y": "08  8 067 03 26",
		"%H %I %p %M %S": "14 02 PM 05 09",
		"%x %X %D %T %F": "03/08/26 14:05:09 03/08/26 14:05:09 2026-03-08",
		"%u %w %U %W %V": "7 0 10 09 10",
		"%G %g %C %s":    "2026 26 20 1772978709",
		"%Z %z %% %q":    "UTC +0000 % %q",
		"trailing %":     "trailing %",
	} {
		if got := strftime(format, tm); got != want {
			t.Errorf("strftime(%q) = %q, want %q", format, got, want)
		}
	}
}
