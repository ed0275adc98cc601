-- Runs in the hub's process. A clock like the seeds' publisher: it says
-- when it started (cached, so subscribers that come later still get it)
-- and reports the time every two seconds; other processes can ask it the
-- time with a request.
local clock = agentd.service("clock")

function clock:init()
  self:publishReport("system.ctime", os.date("!%Y-%m-%dT%H:%M:%SZ"), -1)
  self:startTimer(self.tick, 2, "tick")
end

function clock:tick(name)
  self:publishReport("system.time", os.date("!%Y-%m-%dT%H:%M:%SZ"))
  self:startTimer(self.tick, 2, name)
end

function clock:now()
  return {time = agentd.time(), process = agentd.processIdentity()}
end
clock:exportMethod("now")

-- the hub is told of every agentd process that joins or leaves it
function clock:handleConnection(a)
  local state = a.state == agentd.CONNECTION_ACTIVE and "joined" or "left"
  print(("process %s (%s) %s the hub"):format(a.remoteProcess, a.remoteAddress, state))
end
