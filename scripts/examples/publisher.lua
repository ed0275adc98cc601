-- The seed documents' publisher: announces when it started (a report that
-- stays cached, so later subscribers still get it), then reports the time
-- every few seconds from a timer.
local publisher = agentd.service("publisher")

function publisher:init()
  self.interval = agentd.config.interval or 5
  self:publishReport("system.ctime", os.date("!%Y-%m-%dT%H:%M:%SZ"), -1)
  self:startTimer(self.heartbeat, self.interval, "heartbeat")
end

function publisher:heartbeat(name)
  self:publishReport("system.time", os.date("!%Y-%m-%dT%H:%M:%SZ"))
  self:startTimer(self.heartbeat, self.interval, name)
end
