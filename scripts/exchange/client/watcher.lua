-- Runs in the client's process. It listens to the clock of the hub's
-- process and asks it the time, with the same calls as for a local
-- service: only serviceLocation() tells them apart.
local watcher = agentd.service("watcher")

function watcher:init()
  self:subscribeServiceName(self.clockSeen, "clock")
  self:monitorReports(self.report, "clock", "system.*")
  self:startTimer(self.ask, 5, "ask")
end

function watcher:clockSeen(binding, status)
  local where = binding:serviceLocation() == agentd.SERVICE_REMOTE and "in process " .. binding:processIdentity() or "here"
  if status == agentd.SERVICE_AVAILABLE then
    print("clock available " .. where)
  else
    print("clock withdrawn (" .. where .. ")")
  end
end

function watcher:report(publisher, subject, content)
  print(("%s from %s: %s"):format(subject, publisher:processIdentity(), tostring(content)))
end

function watcher:ask(name)
  local ok, answer = pcall(self.call, self, "clock", "now")
  if ok then
    print(("clock in %s says %.3f"):format(answer.process, answer.time))
  else
    print("no answer: " .. tostring(answer.description or answer))
  end
  self:startTimer(self.ask, 5, name)
end

function watcher:handleConnection(a)
  if a.failed then
    print("no hub at " .. a.remoteAddress .. " yet: trying again")
  elseif a.state == agentd.CONNECTION_ACTIVE then
    print("connected to the hub of " .. a.remoteProcess .. " at " .. a.remoteAddress)
  else
    print("lost the hub: its services are withdrawn until it is back")
  end
end
