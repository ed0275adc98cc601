-- recorder.ring: a ring of at most n values that forgets the oldest.
local Ring = {}
Ring.__index = Ring

local M = {}

-- new returns an empty ring of capacity n, holding items (oldest first,
-- the newest n of them) if given.
function M.new(n, items)
  local r = setmetatable({n = n, first = 1, count = 0, slots = {}}, Ring)
  for _, v in ipairs(items or {}) do r:push(v) end
  return r
end

-- push adds v, dropping the oldest value when the ring is full; it
-- returns the value dropped, if any.
function Ring:push(v)
  if self.count < self.n then
    self.count = self.count + 1
    self.slots[(self.first + self.count - 2) % self.n + 1] = v
    return nil
  end
  local dropped = self.slots[self.first]
  self.slots[self.first] = v
  self.first = self.first % self.n + 1
  return dropped
end

-- items returns the values, oldest first.
function Ring:items()
  local out = {}
  for i = 0, self.count - 1 do
    out[#out + 1] = self.slots[(self.first + i - 1) % self.n + 1]
  end
  return out
end

-- len returns how many values the ring holds.
function Ring:len() return self.count end

return M
