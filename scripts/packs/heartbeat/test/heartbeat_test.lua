-- The heartbeat publishes system.ctime (cached, so this later subscriber
-- gets it first) and then system.time every interval.
local test = require("agentd.test")

local t = agentd.service("heartbeat-test")

function t:init()
  self.times = 0
  self:monitorReports(self.got, "heartbeat", "system.*")
end

function t:got(publisher, subject, content)
  test.equal(publisher:serviceName(), "heartbeat")
  if subject == "system.ctime" then
    test.ok(self.ctime == nil, "system.ctime comes once")
    test.ok(content:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"), "system.ctime is an ISO time: " .. content)
    self.ctime = content
    return
  end
  test.equal(subject, "system.time")
  test.ok(self.ctime, "system.ctime arrives before system.time")
  test.ok(content >= self.ctime, "system.time is not before system.ctime")
  self.times = self.times + 1
  if self.times == 3 then
    self:ignoreReports("heartbeat")
    local st = self:call("heartbeat", "status")
    test.equal(st.started, self.ctime)
    test.equal(st.interval, agentd.config.interval)
    test.ok(st.beats >= 3, "status counts the beats")
    test.equal(self:call("heartbeat-watch", "alarms"), {}, "no alarm while the heartbeat beats")
    test.done()
  end
end
