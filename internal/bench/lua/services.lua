-- Services of the hub-restart scenario: agentd.config.names
-- (comma-separated), all in one agent.
for n in string.gmatch(agentd.config.names or "", "[^,]+") do agentd.service(n) end
