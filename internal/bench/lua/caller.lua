-- The caller of the request scenarios: agentd.config.inflight coroutines
-- (callbacks) call echo in a loop for agentd.config.seconds. With one in
-- flight, each call is timed with agentd.time() and the percentiles are
-- printed at the end.
local cfg = agentd.config
local inflight = math.floor(tonumber(cfg.inflight) or 1)
local seconds = tonumber(cfg.seconds) or 3
local warmup = math.floor(tonumber(cfg.warmup) or 500) -- calls before the measurement

local caller = agentd.service("caller")

function caller:init() self:subscribeServiceName(self.seen, "echo") end

function caller:seen(b, status)
  if status ~= agentd.SERVICE_AVAILABLE or self.echo then return end
  self.echo = b
  self:scheduleAction(self.run)
end

local function rank(sorted, q)
  return sorted[math.max(1, math.ceil(#sorted * q))]
end

function caller:run()
  local b = self.echo
  for i = 1, warmup do self:call(b, "echo", i) end
  if inflight == 1 then
    local lat, n = {}, 0
    print("BENCH start")
    local t0 = agentd.time()
    local s, e = t0, t0
    repeat
      self:call(b, "echo", n)
      e = agentd.time()
      n = n + 1
      lat[n] = e - s
      s = e
    until e - t0 >= seconds
    table.sort(lat)
    print(string.format("BENCH done ops=%d seconds=%.6f p50=%.9f p99=%.9f max=%.9f",
      n, e - t0, rank(lat, 0.5), rank(lat, 0.99), lat[n]))
    return
  end
  self.n, self.left = 0, inflight
  print("BENCH start")
  self.t0 = agentd.time()
  self.deadline = self.t0 + seconds
  for _ = 1, inflight do self:scheduleAction(self.loop) end
end

function caller:loop()
  local b = self.echo
  while agentd.time() < self.deadline do
    self:call(b, "echo", self.n)
    self.n = self.n + 1
  end
  self.left = self.left - 1
  if self.left == 0 then
    print(string.format("BENCH done ops=%d seconds=%.6f", self.n, agentd.time() - self.t0))
  end
end
