-- agentd preamble: compiled once per host, run once per Lua state with the
-- Go primitives below. It must not read globals (everything it needs is
-- passed in), so scripts cannot change its behaviour by changing globals.
local setpanic, DONE, MARK, rawcall, create, acquire, release, raw_resume, raw_yield, raw_status, err = ...

-- Every callback runs in a coroutine whose body is this loop: it calls the
-- function it is given, yields DONE with the results, and is handed the
-- next function when resumed. The coroutine therefore stays alive between
-- callbacks and can be reused. A callback that calls self:call(...) yields
-- MARK instead and is resumed with the answer.
local function loop(fn, ...)
  return loop(raw_yield(DONE, fn(...)))
end

local function callback_body(...)
  setpanic()
  return loop(...)
end

local function pcall_body(...)
  return loop(...)
end

-- pcall and xpcall that a coroutine can yield through (as in Lua 5.2):
-- the protected function runs in a pooled coroutine, and any yield from it
-- is passed on to whoever resumed us, and the answer passed back in.
local function finish(co, ok, tag, ...)
  if not ok then
    return false, tag
  end
  if tag == DONE then
    release(co)
    return true, ...
  end
  return finish(co, raw_resume(co, raw_yield(tag, ...)))
end

local function pcall(f, ...)
  local co = acquire(pcall_body)
  return finish(co, raw_resume(co, f, ...))
end

local function xpcall(f, handler)
  local co = acquire(pcall_body)
  local function xfinish(ok, tag, ...)
    if not ok then
      return false, handler(tag)
    end
    if tag == DONE then
      release(co)
      return true, ...
    end
    return xfinish(raw_resume(co, raw_yield(tag, ...)))
  end
  return xfinish(raw_resume(co, f))
end

-- coroutine.resume and coroutine.wrap that pass self:call(...) through a
-- script's own coroutines: a MARK yield goes on up to the runtime, and the
-- answer comes back down, so the script's coroutine never sees it.
local function propagate(co, ok, tag, ...)
  if ok and tag == MARK and raw_status(co) == "suspended" then
    return propagate(co, raw_resume(co, raw_yield(MARK, ...)))
  end
  return ok, tag, ...
end

local function resume(co, ...)
  return propagate(co, raw_resume(co, ...))
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
    return wrapped(propagate(co, raw_resume(co, ...)))
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

return callback_body, pcall, xpcall, resume, wrap, call
