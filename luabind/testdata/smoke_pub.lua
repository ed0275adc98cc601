local svc = agentd.service("publisher")
function svc:init()
  self:publishReport("system.ctime", {at = 1}, -1)
  self:startTimer(self.tick, 1, "heartbeat")
  self.n = 0
end
function svc:tick(name)
  self.n = self.n + 1
  self:publishReport("system.time", self.n)
  if self.n < 3 then self:startTimer(self.tick, 1, name) end
end
