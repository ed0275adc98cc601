-- The watcher raises a cached alarm when a heartbeat stops, and clears it
-- when the heartbeat resumes. test-beat (watched in [test.config]) beats
-- three times and stops; the pack's own heartbeat keeps beating.
local test = require("agentd.test")

local beat = agentd.service("test-beat")

function beat:init()
  self.left = 3
  self:startTimer(self.tick, 0.02, "tick")
end

function beat:tick(name)
  self:publishReport("system.time", "now")
  self.left = self.left - 1
  if self.left > 0 then self:startTimer(self.tick, 0.02, name) end
end

local t = agentd.service("watch-test")

function t:init()
  self:monitorReports(self.alarm, "heartbeat-watch", "heartbeat.alarm.*")
end

function t:alarm(publisher, subject, content)
  test.equal(subject, "heartbeat.alarm." .. beat:agentIdentity(), "only test-beat falls silent")
  test.equal(content.publisher, "test-beat")
  test.equal(content.identity, beat:agentIdentity())
  if content.state == "silent" then
    test.ok(content.since - content.last >= agentd.config.timeout - 0.01, "the alarm waits for the timeout")
    local alarms = self:call("heartbeat-watch", "alarms")
    test.equal(#alarms, 1)
    test.equal(alarms[1].state, "silent")
    -- the alarm is cached: a subscriber that comes now still gets it
    local late = agentd.service("late")
    function late:init()
      self:monitorReports(self.cached, "heartbeat-watch", subject)
    end
    function late:cached(_, s, c)
      test.equal(c.state, "silent", "the cached alarm")
      self:destroyService()
      beat.left = 1
      beat:startTimer(beat.tick, 0, "tick") -- one more beat clears the alarm
    end
  else
    test.equal(content.state, "ok")
    test.equal(self:call("heartbeat-watch", "alarms"), {})
    test.done()
  end
end
