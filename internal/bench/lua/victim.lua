-- The service of the withdrawal scenario, in the process that is killed.
agentd.service("victim")
