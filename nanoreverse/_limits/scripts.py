"""The Lua scripts of the shared rate limit: each decision is one script, atomic and one
round trip, reading the clock of the Redis server (so machines whose clocks differ agree).
"""

# Redis 7 replicates scripts by their effects; 6.2 must be asked before reading TIME.
_NOW = """
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# The learning rule is local.py's, step for step (one test matrix runs both). State:
# window (every slot taken, scored by when its place frees), accepted (the calls the server
# took, likewise), learned (absent: the configured limit), refused_at (accepted calls in
# the window at the last refusal), probe (the probing slot's id), probe_at, probe_wait.
_STATE = """
local period, calls = tonumber(ARGV[3]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
local learned = tonumber(redis.call('GET', KEYS[3]) or '0')
local probe_at = tonumber(redis.call('GET', KEYS[4]) or '0')
local probe_wait = tonumber(redis.call('GET', KEYS[8]) or tostring(2 * period))
local keep = 40 * period  -- what was learned is forgotten after a while unused
"""

# KEYS: window, pause, learned, probe_at, accepted, refused_at, probe, probe_wait, epoch.
# ARGV: slot id, calls, period ms, the epoch this process knows ('' for none), a new one.
# Returns {1, now ms, epoch} for a slot, {0, ms to wait, epoch}, or {2, 0, epoch} when the
# state this process knew is gone (a restart, an eviction): it puts its places back first.
ACQUIRE = (
    _NOW
    + _STATE
    + """
local epoch = redis.call('GET', KEYS[9])
if not epoch then
  redis.call('SET', KEYS[9], ARGV[5])
  epoch = ARGV[5]
end
if ARGV[4] ~= '' and ARGV[4] ~= epoch then return {2, 0, epoch} end
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return {0, paused - now, epoch} end
local live = redis.call('ZCARD', KEYS[1])
local limit = calls
if learned > 0 then limit = learned end
local probing = redis.call('EXISTS', KEYS[7]) == 1
if live >= limit and learned > 0 and learned < calls and now >= probe_at and not probing then
  redis.call('SET', KEYS[7], ARGV[1], 'PX', 2 * period)  -- one probe at a time
  limit = live + 1
end
if live < limit then
  redis.call('ZADD', KEYS[1], now + period, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], 2 * period)
  return {1, now, epoch}
end
local oldest = redis.call('ZRANGE', KEYS[1], live - limit, live - limit, 'WITHSCORES')
local wait = tonumber(oldest[2]) - now
if learned > 0 and learned < calls and not probing then wait = math.min(wait, probe_at - now) end
return {0, math.max(wait, 1), epoch}
"""
)

# KEYS: as _ACQUIRE's.  ARGV: slot id, calls, period ms, expires at ms (0: refused; -1: the
# call never reached the server), counted until ms (the window less the margin).
ANSWER = (
    _NOW
    + _STATE
    + """
local probe = redis.call('GET', KEYS[7]) == ARGV[1]
if probe then redis.call('DEL', KEYS[7]) end
if ARGV[4] == '-1' then redis.call('ZREM', KEYS[1], ARGV[1]) return 0 end
if ARGV[4] == '0' then
  redis.call('ZREM', KEYS[1], ARGV[1])  -- refused: the server did not count it
  if probe then  -- the limit is what we thought: look again, twice as late
    probe_wait = probe_wait * 2
    redis.call('SET', KEYS[8], probe_wait, 'PX', keep)
    redis.call('SET', KEYS[4], now + probe_wait, 'PX', keep)
    return 0
  end
  local taken = redis.call('ZCARD', KEYS[5])
  local before = tonumber(redis.call('GET', KEYS[6]) or '-1')
  if taken > 0 and before >= 0 and math.abs(taken - before) <= math.floor(before / 4) then
    learned = math.min(math.max(taken, before), calls)  -- two refusals at about one count
    redis.call('SET', KEYS[4], now + probe_wait, 'PX', keep)
  end
  redis.call('SET', KEYS[6], taken, 'PX', keep)
else
  redis.call('ZADD', KEYS[1], 'XX', ARGV[4], ARGV[1])
  redis.call('ZADD', KEYS[5], ARGV[5], ARGV[1])
  redis.call('PEXPIRE', KEYS[5], 2 * period)
  local taken = redis.call('ZCARD', KEYS[5])
  if learned > 0 and taken > learned then  -- the server took more than we thought
    learned = math.min(taken, calls)
    if probe then  -- look for the next one soon
      redis.call('SET', KEYS[8], 2 * period, 'PX', keep)
      redis.call('SET', KEYS[4], now, 'PX', keep)
    end
  end
end
if learned >= calls then learned = 0 end
if learned > 0 then redis.call('SET', KEYS[3], learned, 'PX', keep)
else redis.call('DEL', KEYS[3]) end
return 1
"""
)

# KEYS: pause.  ARGV: ms.
PAUSE = (
    _NOW
    + """
local until_ms = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current then redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]) + 1000) end
return until_ms
"""
)


# KEYS: window, accepted.  ARGV: period ms, then (id, place frees at ms, counted until
# ms) for each place this process holds; a counted-until of 0: not answered yet.
RESTORE = (
    _NOW
    + """
local period = tonumber(ARGV[1])
for i = 2, #ARGV, 3 do
  local frees, counted = tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  if frees > now then redis.call('ZADD', KEYS[1], 'NX', frees, ARGV[i]) end
  if counted > now then redis.call('ZADD', KEYS[2], 'NX', counted, ARGV[i]) end
end
redis.call('PEXPIRE', KEYS[1], 2 * period)
redis.call('PEXPIRE', KEYS[2], 2 * period)
return 1
"""
)
