local calc = agentd.service("calc")
function calc:add(a, b) return a + b end
function calc:twice(x)
  -- a method that itself calls, on its own agent
  return self:call("calc", "add", x, x)
end
function calc:boom() error("kaboom") end
calc:exportMethod("add")
calc:exportMethod("twice")
calc:exportMethod("boom")

local client = agentd.service("client")
function client:init()
  self:startTimer(self.go, 0)
end
function client:go()
  print("add", self:call("calc", "add", 2, 3))
  print("twice", self:call("calc", "twice", 21))
  local ok, f = pcall(self.call, self, "calc", "boom")
  print("boom", ok, f.error, f.origin, (f.details:match("kaboom")))
  local ok2, f2 = pcall(function() return self:call("calc", "nope") end)
  print("nope", ok2, f2.error)
  print("args", select(2, pcall(self.call, self, "calc", "add", 1)).error)
end
