-- Request/reply: a client that waits for the calculator to appear, then
-- calls it, once with self:call (blocking only its own coroutine) and once
-- with sendRequest and callbacks.
local client = agentd.service("calculator-client")

function client:init()
  self:subscribeServiceName(self.calculatorSeen, "calculator")
end

function client:calculatorSeen(binding, status)
  if status ~= agentd.SERVICE_AVAILABLE then
    return
  end
  print("2 + 3 = " .. self:call(binding, "add", 2, 3))
  print("average of 1..10 = " .. self:call(binding, "average", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}))
  local ok, failure = pcall(self.call, self, binding, "divide", 1, 0)
  if not ok then
    print("1 / 0 failed: " .. failure.description .. " (error " .. failure.error .. ")")
  end
  local id = self:sendRequest(binding, "divide", 22, 7)
  self:processResponse(function(self, result) print(string.format("22 / 7 = %.4f", result)) end, id)
  self:processFailure(function(self, f) print("divide failed: " .. f.description) end, id, 5)
end
