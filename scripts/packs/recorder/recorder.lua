-- recorder: keeps the last `keep` reports of each configured source (a
-- service name and a subject pattern) and answers queries by request:
--   recent(pattern [, n])  the kept reports whose subject matches pattern,
--                          oldest first, at most the last n
--   last(subject)          the newest kept report of exactly that subject, or nil
--   stats()                {seen =, kept =, dropped =, sources = {...}}
--   clear()                forgets every kept report; answers how many
-- A report is {seq =, time =, subject =, publisher =, identity =, content =}:
-- seq counts the reports recorded, time is the publish time.
local ring = require("recorder.ring")

local function settings()
  local keep = agentd.config.keep or 100
  if type(keep) ~= "number" or keep < 1 or keep % 1 ~= 0 then
    error("[config.recorder] keep must be a whole number >= 1, got " .. tostring(keep), 0)
  end
  local sources = agentd.config.sources or {}
  if type(sources) ~= "table" then
    error("[config.recorder] sources must be an array of {service =, pattern =} tables", 0)
  end
  for i, s in ipairs(sources) do
    if type(s) ~= "table" or type(s.service) ~= "string" or s.service == "" or type(s.pattern) ~= "string" then
      error("[config.recorder] sources[" .. i .. "] must be a table {service = NAME, pattern = SUBJECT-PATTERN}", 0)
    end
  end
  return keep, sources
end

local keep, sources = settings() -- checked while the script loads

local function key(service, pattern) return service .. " " .. pattern end

local rec = agentd.service("recorder")

function rec:init(restored)
  restored = restored or {}
  self.seq, self.seen, self.dropped = restored.seq or 0, restored.seen or 0, restored.dropped or 0
  self.rings = {}
  for _, s in ipairs(sources) do
    local k = key(s.service, s.pattern)
    self.rings[k] = ring.new(keep, restored.rings and restored.rings[k])
    self:monitorReports(self.record, s.service, s.pattern)
  end
end

function rec:snapshot()
  local rings = {}
  for k, r in pairs(self.rings) do rings[k] = r:items() end
  return {seq = self.seq, seen = self.seen, dropped = self.dropped, rings = rings}
end

function rec:record(publisher, subject, content)
  local current = self:currentReport()
  local r = self.rings[key(publisher:serviceName(), current.pattern)]
  if not r then return end
  self.seq, self.seen = self.seq + 1, self.seen + 1
  if r:push({
    seq = self.seq, time = current.time, subject = subject,
    publisher = publisher:serviceName(), identity = publisher:agentIdentity(), content = content,
  }) then
    self.dropped = self.dropped + 1
  end
end

-- all returns every kept report, oldest first.
function rec:all()
  local out = {}
  for _, r in pairs(self.rings) do
    for _, v in ipairs(r:items()) do out[#out + 1] = v end
  end
  table.sort(out, function(a, b) return a.seq < b.seq end)
  return out
end

function rec:recent(pattern, ...)
  local n = ...
  if type(pattern) ~= "string" then error("recent: the pattern must be a string", 0) end
  if n ~= nil and (type(n) ~= "number" or n < 0) then error("recent: n must be a number >= 0", 0) end
  local found = {}
  for _, v in ipairs(self:all()) do
    if agentd.matchSubject(pattern, v.subject) then found[#found + 1] = v end
  end
  if n == nil or n >= #found then return found end
  local out = {}
  for i = #found - n + 1, #found do out[#out + 1] = found[i] end
  return out
end
rec:exportMethod("recent")

function rec:last(subject)
  local all = self:all()
  for i = #all, 1, -1 do
    if all[i].subject == subject then return all[i] end
  end
  return nil
end
rec:exportMethod("last")

function rec:stats()
  local kept, list = 0, {}
  for _, s in ipairs(sources) do
    local r = self.rings[key(s.service, s.pattern)]
    kept = kept + r:len()
    list[#list + 1] = {service = s.service, pattern = s.pattern, kept = r:len()}
  end
  return {seen = self.seen, kept = kept, dropped = self.dropped, keep = keep, sources = list}
end
rec:exportMethod("stats")

function rec:clear()
  local n = 0
  for k, r in pairs(self.rings) do
    n = n + r:len()
    self.rings[k] = ring.new(keep)
  end
  return n
end
rec:exportMethod("clear")
