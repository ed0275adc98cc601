package luabind

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// The bounded builtins (limits.go) rewrite gopher-lua's string.gsub,
// string.gmatch, table.concat and unpack: within the bounds they must
// answer exactly as gopher-lua's do, quirks included. Each expression runs
// in a plain gopher-lua state and in one with the bounded builtins.
func TestBoundedBuiltinsAnswerAsGopherLua(t *testing.T) {
	exprs := []string{
		// gsub: string replacements, captures, escapes, anchors, counts
		`("hello world"):gsub("o", "0")`,
		`("hello world"):gsub("(o)", "[%1]")`,
		`("hello world"):gsub("l+", "%0%0")`,
		`("hello"):gsub("", "-")`,
		`("abc"):gsub("b*", "-")`,
		`("abc"):gsub("x*", "-")`,
		`("abc"):gsub("^a", "X")`,
		`("abc"):gsub("^b", "X")`,
		`("aaa"):gsub("a", "b", 2)`,
		`("aaa"):gsub("a", "b", -1)`,
		`("aaa"):gsub("a", "b", 5)`,
		`("abc"):gsub("b", "%%")`,
		`("abc"):gsub("b", "%x")`,
		`("abc"):gsub("b", "x%")`,
		`("abc"):gsub("b", "%%1")`,
		`("abc"):gsub("(b)", "%1%0%1")`,
		`("abc"):gsub("b", "%1")`,
		`pcall(string.gsub, "abc", "(b)", "%2")`,
		`pcall(string.gsub, "abc", "b", "%2")`,
		`("a.b.c"):gsub("%.", "/")`,
		`("key = value"):gsub("(%w+)%s*=%s*(%w+)", "%2=%1")`,
		`("abc"):gsub("()b()", "%1-%2")`,
		`("xyz"):gsub("nomatch", "q")`,
		`string.gsub(12321, "2", "x")`,
		`string.gsub(12321, "9", "x")`,
		`pcall(string.gsub, "abc", "[a", "x")`,
		`pcall(string.gsub, "abc", "(", "x")`,
		`("ab ab ab"):gsub(string.rep("a", 3), "")`,
		`string.rep("xy", 100):gsub("", "-")`, // empty matches across the batches of pm.Find
		`string.rep("xy", 100):gsub("y*", "-")`,
		`string.rep("xy", 100):gsub("x", "-", 70)`,
		// gsub: table and function replacements
		`("$a $b $c $d"):gsub("%$(%w)", {a = 1, b = true, c = false})`,
		`("$x $y"):gsub("%$%w", {["$x"] = "X"})`,
		`("abc"):gsub("()", {[1] = "one", [3] = "three"})`,
		`("hello world"):gsub("%w+", function(w) return w:upper() end)`,
		`("hello world"):gsub("(%w)(%w*)", function(a, b) return b .. a end)`,
		`("hello world"):gsub("%w+", function(w) if w == "hello" then return nil end return 42 end)`,
		`("abc"):gsub("()(b)()", function(a, b, c) return a .. b .. c end)`,
		`("abc"):gsub("b", function() return {} end)`,
		`("abc"):gsub("b", function() return false end)`,
		// gmatch
		`(function() local r = {} for w in ("one two  three"):gmatch("%a+") do r[#r+1] = w end return table.concat(r, ",") end)()`,
		`(function() local r = {} for k, v in ("a=1, b=2"):gmatch("(%w+)=(%w+)") do r[#r+1] = k .. v end return table.concat(r, ",") end)()`,
		`(function() local r = {} for p in ("abc"):gmatch("()") do r[#r+1] = p end return table.concat(r, ",") end)()`,
		`(function() local r = {} for w in ("abc"):gmatch("b*") do r[#r+1] = "<" .. w .. ">" end return table.concat(r, ",") end)()`,
		`(function() local r = {} for w in ("aaa"):gmatch("^a") do r[#r+1] = w end return #r end)()`,
		`(function() local r = {} for w in string.rep("ab", 100):gmatch("a(b)") do r[#r+1] = w end return #r, r[100] end)()`,
		`(function() local r = {} for w in (""):gmatch(".") do r[#r+1] = w end return #r end)()`,
		`(function() local r = {} for p in string.rep("xy", 50):gmatch("()y*") do r[#r+1] = p end return table.concat(r, ",") end)()`,
		// table.concat
		`table.concat({1, 2, 3})`,
		`table.concat({1, 2.5, "x"}, ", ")`,
		`table.concat({1, 2, 3}, "-", 2)`,
		`table.concat({1, 2, 3}, "-", 2, 3)`,
		`table.concat({1, 2, 3}, "-", 3, 2)`,
		`table.concat({1, 2, 3}, "-", 0)`,
		`table.concat({1, 2, 3}, "-", 4)`,
		`table.concat({1, 2, 3}, "-", -5, 2)`,
		`table.concat({1, 2, 3}, "-", 1, 10)`,
		`table.concat({}, "-")`,
		`table.concat({1, 2, 3}, 0)`,
		`table.concat({1e100, -0.5, 2^53})`,
		`pcall(table.concat, {1, {}, 3})`,
		`pcall(table.concat, {1, true})`,
		// unpack
		`unpack({1, 2, 3})`,
		`unpack({1, 2, 3}, 2)`,
		`unpack({1, 2, 3}, 2, 5)`,
		`unpack({1, 2, 3}, -1, 1)`,
		`unpack({1, 2, 3}, 3, 1)`,
		`select("#", unpack({}, 1, 100))`,
		// string.rep, string.format within the bounds
		`string.rep("ab", 3)`,
		`string.rep("ab", 0)`,
		`string.rep("ab", -1)`,
		`string.rep("", 1e9)`,
		`string.format("%d %5.1f %-3s| %q %x %X %o %e %g %c %%", 42, 3.14159, "a", "q\n\"", 255, 255, 8, 1.5, 0.1, 65)`,
		`string.format("%s %s", 1, true)`,
		`string.format("%10.3s|", "abcdef")`,
		`string.format("no directives")`,
		`pcall(string.format, "%d")`,
	}
	for _, e := range exprs {
		want := evalAll(t, lua.NewState(), e)
		L := lua.NewState()
		st := &state{h: &Host{opts: Options{AllocLimit: DefaultAllocLimit}}, L: L}
		st.installLimits()
		if got := evalAll(t, L, e); got != want {
			t.Errorf("%s\n got  %s\n want %s", e, got, want)
		}
	}
}

// evalAll runs "return EXPR" in L and renders every result.
func evalAll(t *testing.T, L *lua.LState, expr string) string {
	t.Helper()
	defer L.Close()
	if err := L.DoString("return " + expr); err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	for i := 1; i <= L.GetTop(); i++ {
		v := L.Get(i)
		b.WriteString(v.Type().String() + ":")
		if v.Type() == lua.LTString || v.Type() == lua.LTNumber || v.Type() == lua.LTBool || v.Type() == lua.LTNil {
			b.WriteString(v.String())
		}
		b.WriteString(" ")
	}
	return b.String()
}
