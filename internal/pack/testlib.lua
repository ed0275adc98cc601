-- agentd.test: what a pack's test script requires. Assertions raise an
-- error at the line of the test that called them; test.done() ends the
-- test. See spec/packs.md, "Tests".
local finish = require("agentd.test.done")

local test = {}

-- The error level that names the line calling an assertion. gopher-lua
-- counts the error function itself as level 1 (standard Lua would say 2).
local CALLER = 3

-- show renders a value for a failure message.
local function show(v, depth)
  depth = depth or 0
  local t = type(v)
  if t == "string" then
    return string.format("%q", v)
  elseif t ~= "table" then
    return tostring(v)
  elseif depth > 3 then
    return "{...}"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    if type(a) == type(b) and (type(a) == "number" or type(a) == "string") then return a < b end
    return type(a) < type(b)
  end)
  local parts = {}
  local n = #v
  for _, k in ipairs(keys) do
    if type(k) == "number" and k >= 1 and k <= n and k % 1 == 0 then
      parts[#parts + 1] = show(v[k], depth + 1)
    elseif type(k) == "string" and k:match("^[%a_][%w_]*$") then
      parts[#parts + 1] = k .. " = " .. show(v[k], depth + 1)
    else
      parts[#parts + 1] = "[" .. show(k, depth + 1) .. "] = " .. show(v[k], depth + 1)
    end
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end
test.show = show

-- same compares two values, tables by content.
local function same(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in pairs(a) do
    if not same(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end
test.same = same

local function prefix(msg)
  if msg == nil then return "" end
  return tostring(msg) .. ": "
end

-- test.ok(v [, msg]) fails unless v is true (neither nil nor false); it returns v.
function test.ok(v, msg)
  if not v then error(prefix(msg) .. "expected a true value, got " .. show(v), CALLER) end
  return v
end

-- test.equal(got, want [, msg]) fails unless got equals want (tables by content).
function test.equal(got, want, msg)
  if not same(got, want) then
    error(prefix(msg) .. "got " .. show(got) .. ", want " .. show(want), CALLER)
  end
end

-- test.fail([msg]) fails at once.
function test.fail(msg)
  error(msg or "test.fail called", CALLER)
end

-- test.done() ends the test: it passes if nothing failed.
function test.done()
  finish()
end

return test
