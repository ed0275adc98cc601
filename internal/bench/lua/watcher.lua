-- The watcher of the withdrawal and hub-restart scenarios: it follows
-- every service named in agentd.config.names (comma-separated) and prints
-- when all are visible and when none is, with agentd.time().
local names = {}
for n in string.gmatch(agentd.config.names or "", "[^,]+") do names[#names + 1] = n end

local w = agentd.service("watcher")
local visible, count = {}, 0

function w:init()
  for _, n in ipairs(names) do self:subscribeServiceName(self.seen, n) end
end

function w:seen(b, status)
  local id = b:agentIdentity() .. "/" .. b:serviceName()
  local t = agentd.time()
  if status == agentd.SERVICE_AVAILABLE then
    if visible[id] then return end
    visible[id] = true
    count = count + 1
    if count == #names then print(string.format("BENCH all t=%.6f", t)) end
  else
    if not visible[id] then return end
    visible[id] = nil
    count = count - 1
    if count == 0 then print(string.format("BENCH none t=%.6f", t)) end
  end
end
