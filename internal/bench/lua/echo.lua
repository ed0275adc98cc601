-- The callee of the request scenarios.
local echo = agentd.service("echo")
function echo:echo(x) return x end
echo:exportMethod("echo")
