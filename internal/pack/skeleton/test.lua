-- A test of PACKNAME, run by `agentd pack test`: the pack's agents run
-- beside this script; test.done() ends the test, and any failed assertion
-- or error fails it.
local test = require("agentd.test")
local greeting = require("PACKNAME.greeting")

test.equal(greeting.text("hi", "Ada"), "hi, Ada!")

local t = agentd.service("PACKNAME-test")

function t:init()
  self:monitorReports(self.greeted, "PACKNAME", "PACKNAME.greeting")
end

function t:greeted(publisher, subject, content)
  self:ignoreReports("PACKNAME")
  test.equal(content.text, agentd.config.greeting .. ", world!")
  test.equal(self:call("PACKNAME", "greet", "Ada"), agentd.config.greeting .. ", Ada!")
  test.done()
end
