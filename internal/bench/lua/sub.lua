-- A subscriber of the report scenarios: a Lua callback per report.
local sub = agentd.service("sub")
local got = 0
function sub:init() self:monitorReports(self.report, "pub", "bench.*") end
function sub:report(publisher, subject, content) got = got + 1 end
function sub:ack() return got end
sub:exportMethod("ack")
