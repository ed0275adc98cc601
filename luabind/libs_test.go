package luabind

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// describeLibs lists what a state's globals hold, sorted: every global,
// every field of every library table, by type, with constants' values.
const describeLibs = `
local out = {}
local function kind(v)
  if type(v) == "number" or type(v) == "string" or type(v) == "boolean" then return type(v) .. ":" .. tostring(v) end
  return type(v)
end
for k, v in pairs(_G) do
  out[#out + 1] = k .. "=" .. kind(v)
  if type(v) == "table" and v ~= _G then
    for f, x in pairs(v) do
      out[#out + 1] = k .. "." .. f .. "=" .. (x == v and "itself" or kind(x))
    end
  end
end
table.sort(out)
description = table.concat(out, "\n")
strings = ("abc"):upper() .. (#"xy") .. string.format("%d", 7) .. tostring(_G._G == _G) .. tostring(string.__index == string) .. tostring(string.gfind == string.gmatch)
local n = 0
for _, x in ipairs({1, 2, 3}) do n = n + x end
for w in ("a b c"):gmatch("%a") do n = n + 1 end
iteration = n
`

// TestLibTemplate checks that a state given the libraries from the
// host's template has the same globals as one that ran the openers, and
// function objects of its own.
func TestLibTemplate(t *testing.T) {
	tmpl := newLibTemplate()
	if tmpl == nil {
		t.Fatal("no template of the standard libraries: newLibTemplate met something it cannot copy")
	}
	run := func(L *lua.LState) map[string]string {
		t.Helper()
		if err := L.DoString(describeLibs); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, k := range []string{"description", "strings", "iteration"} {
			out[k] = L.GetGlobal(k).String()
		}
		return out
	}
	opened := lua.NewState(stateOptions)
	defer opened.Close()
	for _, lib := range stdLibs {
		opened.Push(opened.NewFunction(lib.open))
		opened.Push(lua.LString(lib.name))
		opened.Call(1, 0)
	}
	copied := lua.NewState(stateOptions)
	defer copied.Close()
	tmpl.instantiate(copied)
	want, got := run(opened), run(copied)
	for k := range want {
		if got[k] != want[k] {
			t.Errorf("%s:\ngot  %s\nwant %s", k, got[k], want[k])
		}
	}
	if got["strings"] != "ABC27truetruetrue" || got["iteration"] != "9" {
		t.Errorf("libraries do not work: %v", got)
	}

	other := lua.NewState(stateOptions)
	defer other.Close()
	tmpl.instantiate(other)
	if copied.GetGlobal("print") == other.GetGlobal("print") ||
		copied.GetField(copied.GetGlobal("string"), "upper") == other.GetField(other.GetGlobal("string"), "upper") ||
		copied.GetGlobal("string") == other.GetGlobal("string") {
		t.Error("two states share a library function or table")
	}
	if err := copied.DoString(`string.upper = nil math.pi = 3 x = 1`); err != nil {
		t.Fatal(err)
	}
	if err := other.DoString(`assert(getfenv(print) == _G and string.upper ~= nil and math.pi > 3.14 and x == nil)`); err != nil {
		t.Errorf("a change in one state shows in another: %v", err)
	}
}
