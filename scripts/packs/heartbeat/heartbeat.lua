-- heartbeat: the seeds' publisher as a service. It announces when it
-- started with the report system.ctime, kept in the cache so that later
-- subscribers get it too, and reports the time every interval seconds as
-- system.time. Both contents are ISO 8601 UTC times.
local settings = require("heartbeat.settings")

local interval = settings.interval() -- checked while the script loads

local beat = agentd.service("heartbeat")

function beat:init(restored)
  if restored then -- a hot reload: the cached system.ctime stays as it was
    self.started, self.beats = restored.started, restored.beats
  else
    self.started, self.beats = settings.iso(agentd.time()), 0
    self:publishReport("system.ctime", self.started, -1)
  end
  self:startTimer(self.tick, interval, "tick")
end

function beat:snapshot()
  return {started = self.started, beats = self.beats}
end

function beat:tick(name)
  self.beats = self.beats + 1
  self:publishReport("system.time", settings.iso(agentd.time()))
  self:startTimer(self.tick, interval, name)
end

-- status() answers {started =, beats =, interval =}.
function beat:status()
  return {started = self.started, beats = self.beats, interval = interval}
end
beat:exportMethod("status")
