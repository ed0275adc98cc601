-- heartbeat.settings: the pack's settings, read from agentd.config and
-- checked, so that a wrong value stops the load with its file and line.
local M = {}

local function positive(key, default)
  local v = agentd.config[key]
  if v == nil then return default end
  if type(v) ~= "number" or v < 0 or v ~= v then
    error(string.format("[config.heartbeat] %s must be a number of seconds >= 0, got %s", key, tostring(v)), 0)
  end
  return v
end

-- interval is the time between two system.time reports.
function M.interval()
  local v = positive("interval", 10)
  if v == 0 then error("[config.heartbeat] interval must be more than 0", 0) end
  return v
end

-- timeout is how long a watched heartbeat may be silent.
function M.timeout()
  local v = positive("timeout", 0)
  if v == 0 then return 3 * M.interval() end
  return v
end

-- watched lists the services whose heartbeats are watched.
function M.watched()
  local w = agentd.config.watch
  if w == nil then return {"heartbeat"} end
  if type(w) == "string" then return {w} end
  if type(w) ~= "table" then error("[config.heartbeat] watch must be a service name or an array of them", 0) end
  for i, name in ipairs(w) do
    if type(name) ~= "string" or name == "" then
      error("[config.heartbeat] watch[" .. i .. "] must be a service name", 0)
    end
  end
  return w
end

-- iso formats epoch seconds as an ISO 8601 UTC time.
function M.iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", t)
end

return M
