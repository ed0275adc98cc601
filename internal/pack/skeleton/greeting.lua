-- PACKNAME.greeting: a module of the pack, found by require("PACKNAME.greeting").
local M = {}

function M.text(greeting, who)
  return greeting .. ", " .. who .. "!"
end

return M
