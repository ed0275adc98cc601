-- A module shared by the example scripts (require("lib.format")): modules
-- live in a subfolder so that they are not started as agents themselves.
local format = {}

function format.who(binding)
  return string.format("(%q/%s)", binding:serviceName(), binding:agentIdentity())
end

return format
