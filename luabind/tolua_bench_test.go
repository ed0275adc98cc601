package luabind

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

var benchContent = map[string]any{"seq": int64(123456), "name": "sensor", "ok": true, "value": 1.5, "count": int64(123456)}

func BenchmarkToLua5Fields(b *testing.B) {
	L := lua.NewState(stateOptions)
	defer L.Close()
	b.ReportAllocs()
	for b.Loop() {
		_ = ToLua(L, benchContent)
	}
}

func BenchmarkFromLua5Fields(b *testing.B) {
	L := lua.NewState(stateOptions)
	defer L.Close()
	t := ToLua(L, benchContent)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = FromLua(t, "content")
	}
}

func BenchmarkLuaTableConstructor(b *testing.B) {
	L := lua.NewState()
	defer L.Close()
	fn, _ := L.LoadString(`local n = ... for i = 1, n do local t = {seq = i, name = "sensor", ok = true, value = 1.5, count = i} end`)
	b.ReportAllocs()
	b.ResetTimer()
	L.Push(fn)
	L.Push(lua.LNumber(b.N))
	L.Call(1, 0)
}

// The same through a state's converter, as report delivery does.
func BenchmarkConverterToLua5Fields(b *testing.B) {
	L := lua.NewState(stateOptions)
	defer L.Close()
	c := &converter{}
	b.ReportAllocs()
	for b.Loop() {
		_ = c.toLua(L, benchContent)
	}
}

func BenchmarkConverterFromLua5Fields(b *testing.B) {
	L := lua.NewState(stateOptions)
	defer L.Close()
	c := &converter{}
	t := c.toLua(L, benchContent)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = c.fromLua(t, "content")
	}
}
