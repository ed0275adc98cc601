-- PACKNAME: publishes a greeting every agentd.config.interval seconds as
-- the report "PACKNAME.greeting" and answers the request greet(who).
local greeting = require("PACKNAME.greeting")   -- lib/PACKNAME/greeting.lua

local svc = agentd.service("PACKNAME")

function svc:init(restored)
  self.count = restored and restored.count or 0   -- kept across hot reloads
  self:startTimer(self.tick, agentd.config.interval or 5, "tick")
end

function svc:snapshot()
  return {count = self.count}
end

function svc:tick(name)
  self.count = self.count + 1
  self:publishReport("PACKNAME.greeting", {
    text = greeting.text(agentd.config.greeting or "hello", "world"),
    count = self.count,
  })
  self:startTimer(self.tick, agentd.config.interval or 5, name)
end

function svc:greet(who)
  return greeting.text(agentd.config.greeting or "hello", who)
end
svc:exportMethod("greet")
