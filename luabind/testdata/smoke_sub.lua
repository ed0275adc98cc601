local svc = agentd.service("subscriber")
function svc:init()
  self:monitorReports(self.report, "publisher", "system.*")
end
function svc:report(publisher, subject, content)
  local r = self:currentReport()
  print("report", tostring(publisher), subject, type(content) == "table" and content.at or content, r.pattern)
end
