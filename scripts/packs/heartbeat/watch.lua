-- heartbeat-watch: follows the system.time reports of every service named
-- in agentd.config.watch. When one stays silent for timeout seconds, or
-- is withdrawn, it publishes the alarm report
--   heartbeat.alarm.IDENTITY  {publisher =, identity =, state = "silent" or "withdrawn", last =, since =}
-- and keeps it in the cache (subscribers that come later get it). When the
-- heartbeat resumes it publishes state "ok" on the same subject, which
-- also drops the cached alarm.
local settings = require("heartbeat.settings")

local timeout, watched = settings.timeout(), settings.watched()

local watch = agentd.service("heartbeat-watch")

function watch:init(restored)
  self.peers = restored and restored.peers or {} -- by agent identity: {name =, last =, alarm =}
  for _, name in ipairs(watched) do
    self:monitorReports(self.beat, name, "system.time")
  end
  for id, peer in pairs(self.peers) do -- after a hot reload, watch on
    if not peer.alarm then self:startTimer(self.silent, timeout, id) end
  end
end

function watch:snapshot()
  return {peers = self.peers}
end

local function subject(id) return "heartbeat.alarm." .. id end

function watch:beat(publisher, subj, content)
  local id = publisher:agentIdentity()
  local peer = self.peers[id]
  if not peer then
    peer = {name = publisher:serviceName()}
    self.peers[id] = peer
  end
  peer.last = agentd.time()
  if peer.alarm then
    peer.alarm = nil
    self:publishReport(subject(id), {publisher = peer.name, identity = id, state = "ok", last = peer.last})
    agentd.log.notice("heartbeat back", {publisher = peer.name, identity = id})
  end
  self:startTimer(self.silent, timeout, id)
end

function watch:silent(id)
  self:raise(id, "silent")
end

function watch:handlePublisherNotification(n)
  if n.status == agentd.SERVICE_WITHDRAWN then
    local id = n.publisher:agentIdentity()
    self:cancelTimer(id)
    if self.peers[id] then self:raise(id, "withdrawn") end
  end
end

function watch:raise(id, state)
  local peer = self.peers[id]
  if peer.alarm == state then return end
  peer.alarm = state
  self:publishReport(subject(id), {
    publisher = peer.name, identity = id, state = state, last = peer.last, since = agentd.time(),
  }, -1)
  agentd.log.warning("heartbeat " .. state, {publisher = peer.name, identity = id})
end

-- alarms() answers the alarms raised now: an array of
-- {publisher =, identity =, state =, last =}, sorted by identity.
function watch:alarms()
  local out = {}
  for id, peer in pairs(self.peers) do
    if peer.alarm then
      out[#out + 1] = {publisher = peer.name, identity = id, state = peer.alarm, last = peer.last}
    end
  end
  table.sort(out, function(a, b) return a.identity < b.identity end)
  return out
end
watch:exportMethod("alarms")

-- forget(identity) drops an alarm and the cached report (for a publisher
-- that is gone for good); it answers whether there was one.
function watch:forget(id)
  local peer = self.peers[id]
  if not peer then return false end
  self.peers[id] = nil
  self:cancelTimer(id)
  self:expireReports(subject(id))
  return true
end
watch:exportMethod("forget")
