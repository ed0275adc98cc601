-- The recorder keeps the last `keep` (3 here) reports of each source and
-- answers queries. [test.config] makes it record the service "source".
local test = require("agentd.test")

local src = agentd.service("source")

function src:init()
  for i = 1, 5 do self:publishReport("t." .. i, {n = i}) end
  self:publishReport("alarm.x", "on")
  self:publishReport("other", "not recorded: no source pattern matches")

  local all = self:call("recorder", "recent", "*")
  test.equal(#all, 4, "t.3, t.4, t.5 (3 of the t.* source) and alarm.x")
  local subjects = {}
  for i, r in ipairs(all) do subjects[i] = r.subject end
  test.equal(subjects, {"t.3", "t.4", "t.5", "alarm.x"})
  test.equal(all[1].publisher, "source")
  test.equal(all[1].identity, self:agentIdentity())
  test.equal(all[1].content, {n = 3})
  test.ok(all[1].seq < all[2].seq and type(all[1].time) == "number")

  local two = self:call("recorder", "recent", "t.*", 2)
  test.equal({two[1].subject, two[2].subject}, {"t.4", "t.5"})
  test.equal(self:call("recorder", "last", "t.5").content, {n = 5})
  test.equal(self:call("recorder", "last", "t.1"), nil, "t.1 was dropped")

  local st = self:call("recorder", "stats")
  test.equal({st.seen, st.kept, st.dropped, st.keep}, {6, 4, 2, 3})
  test.equal(st.sources[1], {service = "source", pattern = "t.*", kept = 3})

  local ok, failure = pcall(self.call, self, "recorder", "recent", 5)
  test.ok(not ok and failure.error == agentd.SERVER_APPLICATION_ERROR, "a bad pattern fails the request")

  test.equal(self:call("recorder", "clear"), 4)
  test.equal(self:call("recorder", "recent", "*"), {})
  test.done()
end
