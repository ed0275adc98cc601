-- agentd preamble: compiled once per host, run once per Lua state with the
-- Go primitives below, passed in one table by name (preamble.go). It must
-- not read globals (everything it needs is passed in), so scripts cannot
-- change its behaviour by changing globals. It returns the functions it
-- makes, in one table, by name.
local p = ...
local setpanic, DONE, MARK, rawcall = p.setpanic, p.DONE, p.MARK, p.rawcall
local create, acquire, release = p.create, p.acquire, p.release
local presume, sresume, aresume = p.presume, p.sresume, p.aresume
local raw_yield, raw_status, err, clean = p.yield, p.status, p.error, p.clean

-- presume, sresume and aresume are coroutine.resume for a pooled pcall
-- coroutine, for a coroutine of the script (refused for one that waits in
-- self:call), and for the script's coroutine that gets the answer of a
-- self:call. They keep the chain of running coroutines (nesting.go).

-- Every callback runs in a coroutine whose body is this loop: it calls the
-- function in slot[1] with the arguments it is resumed with, yields DONE
-- with the results, and waits for the next callback. The coroutine
-- therefore stays alive between callbacks and can be reused. A callback
-- that calls self:call(...) yields MARK instead and is resumed with the
-- answer. Calling through slot[1] (not a named local) lets Lua name the
-- function by its definition, as it does for functions called from C.
local function loop(slot, ...)
  return loop(slot, raw_yield(DONE, slot[1](...)))
end

local function callback_body(slot, ...)
  setpanic()
  return loop(slot, ...)
end

local function pcall_body(slot, ...)
  return loop(slot, ...)
end

-- pcall and xpcall that a coroutine can yield through (as in Lua 5.2):
-- the protected function runs in a pooled coroutine, and any yield from it
-- is passed on to whoever resumed us, and the answer passed back in.
local function finish(co, slot, ok, tag, ...)
  if not ok then
    return false, clean(tag)
  end
  if tag == DONE then
    release(co, slot)
    return true, ...
  end
  return finish(co, slot, presume(co, raw_yield(tag, ...)))
end

local function start(co, slot, fresh, ...)
  if fresh then
    return presume(co, slot, ...)
  end
  return presume(co, ...)
end

local function pcall(f, ...)
  local co, slot, fresh = acquire(pcall_body)
  slot[1] = f
  return finish(co, slot, start(co, slot, fresh, ...))
end

local function xpcall(f, handler)
  local co, slot, fresh = acquire(pcall_body)
  slot[1] = f
  local function xfinish(ok, tag, ...)
    if not ok then
      return false, handler(clean(tag))
    end
    if tag == DONE then
      release(co, slot)
      return true, ...
    end
    return xfinish(presume(co, raw_yield(tag, ...)))
  end
  return xfinish(start(co, slot, fresh))
end

-- coroutine.resume and coroutine.wrap that pass self:call(...) through a
-- script's own coroutines: a MARK yield goes on up to the runtime, and the
-- answer comes back down, so the script's coroutine never sees it.
local function propagate(co, ok, tag, ...)
  if ok and tag == MARK and raw_status(co) == "suspended" then
    return propagate(co, aresume(co, raw_yield(MARK, ...)))
  end
  return ok, tag, ...
end

local function resume(co, ...)
  return propagate(co, sresume(co, ...))
end

local function wrapped(ok, ...)
  if ok then
    return ...
  end
  err((...), 0)
end

local function wrap(f)
  local co = create(f)
  return function(...)
    return wrapped(propagate(co, sresume(co, ...)))
  end
end

-- self:call(target, method, ...) returns the result or raises the failure.
local function call(self, ...)
  local ok, v = rawcall(self, ...)
  if ok then
    return v
  end
  err(v, 0)
end

return {body = callback_body, pcall = pcall, xpcall = xpcall, resume = resume, wrap = wrap, call = call}
