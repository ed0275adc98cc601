-- The seed documents' subscriber: listens to everything "publisher"
-- reports under system.* and says what it heard.
local format = require("lib.format")
local subscriber = agentd.service("subscriber")

function subscriber:init()
  self:monitorReports(self.report, "publisher", "system.*")
end

function subscriber:report(publisher, subject, content)
  local who = format.who(publisher)
  if subject == "system.ctime" then
    print(who .. " originally started at " .. tostring(content))
  elseif subject == "system.time" then
    print(who .. " was still alive at " .. tostring(content))
  end
end

function subscriber:handlePublisherNotification(n)
  if n.status == agentd.SERVICE_WITHDRAWN then
    print(format.who(n.publisher) .. " went away")
  end
end
