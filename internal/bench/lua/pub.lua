-- The publisher of the report scenarios. It waits for agentd.config.subs
-- subscriptions (local or remote), warms up, then publishes 5-field
-- tables in batches of 1000 for agentd.config.seconds. After each batch it
-- calls every subscriber's "ack", which answers once the subscriber has
-- handled every report before it: the backlog stays bounded (as flow
-- control keeps it) and the count delivered is exact.
local cfg = agentd.config
local want = math.floor(tonumber(cfg.subs) or 1)
local seconds = tonumber(cfg.seconds) or 3
local warmup = math.floor(tonumber(cfg.warmup) or 20) -- batches before the measurement
local batch = 1000

local pub = agentd.service("pub")
pub.subs = {}

function pub:handleSubscription(s)
  if s.status ~= agentd.SUBSCRIPTION_REQUESTED then return end
  table.insert(self.subs, s.subscriber)
  if #self.subs == want then self:scheduleAction(self.run) end
end

function pub:acks()
  local n = 0
  for _, b in ipairs(self.subs) do n = n + self:call(b, "ack") end
  return n
end

function pub:burst(seq)
  for i = seq + 1, seq + batch do
    self:publishReport("bench.x", {seq = i, name = "sensor", ok = true, value = 1.5, count = i})
  end
  return seq + batch
end

function pub:run()
  local seq = 0
  for _ = 1, warmup do seq = self:burst(seq); self:acks() end
  local base = self:acks()
  print("BENCH start")
  local t0 = agentd.time()
  local got, t
  repeat
    seq = self:burst(seq)
    got = self:acks()
    t = agentd.time()
  until t - t0 >= seconds
  print(string.format("BENCH done ops=%d sent=%d seconds=%.6f", got - base, (seq - warmup * batch) * want, t - t0))
end
