-- Request/reply: a calculator service with exported methods. A division by
-- zero answers with a failure instead of a result.
local calculator = agentd.service("calculator")

function calculator:add(a, b)
  return a + b
end

function calculator:divide(a, b)
  if b == 0 then
    self:abortResponse(agentd.SERVER_APPLICATION_ERROR, "division by zero", "calculator")
  end
  return a / b
end

-- A method that waits for another request before it answers.
function calculator:average(values)
  local sum = 0
  for _, v in ipairs(values) do
    sum = self:call("calculator", "add", sum, v)
  end
  return sum / #values
end

calculator:exportMethod("add")
calculator:exportMethod("divide")
calculator:exportMethod("average")
