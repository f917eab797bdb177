"""One key's rate limit shared by every process and machine that uses it, on Redis.

The same rules as the in-process :class:`~nanoreverse._limits.local.Limiter`, with the state
in Redis so that every process sees it: the sliding window of calls, the pause a 429 (or
503) sets for everyone, and the limit learned when the server's turned out lower than
configured. Each decision is one Lua script (atomic, one round trip) that reads the
clock of the Redis server, so machines whose clocks differ still agree.

A slot taken and not yet sent counts for one window from when it was taken: a process
that dies holding it never blocks the others for longer than that. A call refused with
429 gives its place back (the server did not count it).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._config import RateLimit
from .._redis import RedisConnection

logger = logging.getLogger("nanoreverse")

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

# KEYS: window, pause, learned, probe_at, accepted, refused_at, probe, probe_wait.
# ARGV: slot id, calls, period ms.  Returns {1, now ms} for a slot, {0, ms to wait}.
_ACQUIRE = (
    _NOW
    + _STATE
    + """
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return {0, paused - now} end
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
  return {1, now}
end
local oldest = redis.call('ZRANGE', KEYS[1], live - limit, live - limit, 'WITHSCORES')
local wait = tonumber(oldest[2]) - now
if learned > 0 and learned < calls and not probing then wait = math.min(wait, probe_at - now) end
return {0, math.max(wait, 1)}
"""
)

# KEYS: as _ACQUIRE's.  ARGV: slot id, calls, period ms, expires at ms (0: refused; -1: the
# call never reached the server), counted until ms (the window less the margin).
_ANSWER = (
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
_PAUSE = (
    _NOW
    + """
local until_ms = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current then redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]) + 1000) end
return until_ms
"""
)


@dataclass(eq=False)
class SharedSlot:
    """One call's place in the shared window."""

    id: str
    server_ms: float  # the Redis clock when the slot was taken...
    local: float  # ...and ours then, to date the send on the Redis clock
    sent_ms: float | None = None


class RedisLimiter:
    """The rate limit of one API key, shared on Redis by every process that uses the key.

    >>> rate = RateLimit(100, per=3600, shared="redis://host/0")
    >>> limiter = RedisLimiter(rate, scope)  # doctest: +SKIP
    """

    def __init__(
        self, rate: RateLimit, scope: str, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        assert rate.shared is not None
        self.rate: RateLimit | None = rate
        self._rate = rate
        self.url = rate.shared
        self._clock = clock
        prefix = f"{rate.namespace}:{scope}:limit"
        self._pause = f"{prefix}:pause"
        names = ("window", "pause", "learned", "probe_at", "accepted", "refused_at", "probe")
        self._keys = [f"{prefix}:{name}" for name in (*names, "probe_wait")]
        self._period_ms = int((rate.period) * 1000)
        self._counted_ms = int((rate.per - (rate.margin or 0.0)) * 1000)
        self._redis = RedisConnection(self.url)
        self._pending: set[asyncio.Task[None]] = set()
        self._last: asyncio.Task[None] | None = None
        self._limit_seen: int = rate.calls
        self._paused_until = -math.inf
        #: Redis round trips made, for benchmarks.
        self.round_trips = 0

    @property
    def limit(self) -> int:
        return self._limit_seen

    def __repr__(self) -> str:
        return f"<RedisLimiter rate={self.rate!r}>"

    async def _eval(self, what: str, source: str, keys: list[str], args: list[Any]) -> Any:
        self.round_trips += 1
        return await self._redis.eval(what, source, keys, args)

    async def acquire(self, on_wait: Callable[[float], None] | None = None) -> SharedSlot:
        """Wait until the fleet may start a call, and take its place in the shared window."""
        slot_id = uuid.uuid4().hex
        keys = self._keys
        args = [slot_id, self._rate.calls, self._period_ms]
        while True:
            # The Redis clock read in the script is matched with ours before asking: a send is
            # then dated late by at most a round trip, never early (a place must not free
            # before the server's does).
            asked = self._clock()
            granted, value = await self._eval("take a rate-limit slot", _ACQUIRE, keys, args)
            if granted:
                return SharedSlot(slot_id, float(value), asked)
            wait = int(value) / 1000
            if on_wait is not None:
                on_wait(wait)
            # Look again when the oldest place frees (or the pause ends): measured, looking
            # every twentieth of a window cost up to 10 round trips per call for nothing.
            await asyncio.sleep(wait)

    def sent(self, slot: SharedSlot) -> None:
        """The request is fully sent: its place is dated from now (on the Redis clock)."""
        if slot.sent_ms is None:
            slot.sent_ms = slot.server_ms + (self._clock() - slot.local) * 1000

    def release(self, slot: SharedSlot) -> None:
        """The call never reached the server: give its place back."""
        if slot.sent_ms is None:
            self._later(self._answer(slot, expires_ms=-1))

    def answered(self, slot: SharedSlot, *, accepted: bool) -> None:
        """Record the server's verdict; a 429 gives the place back, and teaches the limit
        by the rule in ``local.py``."""
        self.sent(slot)
        assert slot.sent_ms is not None
        expires = max(slot.sent_ms + self._period_ms, 1) if accepted else 0
        self._later(self._answer(slot, expires_ms=expires))

    async def _answer(self, slot: SharedSlot, *, expires_ms: float) -> None:
        # An accepted call counts for learning over the window less the margin (local.py).
        counted = (slot.sent_ms or 0) + self._counted_ms
        args = [slot.id, self._rate.calls, self._period_ms, int(expires_ms), int(counted)]
        await self._eval("record an answer", _ANSWER, self._keys, args)

    async def learned_limit(self) -> int | None:
        """The limit learned on Redis (None: the configured one holds), for tests and ETAs."""
        redis = self._redis.client()
        found = await self._redis.run("read the learned limit", redis.get(self._keys[2]))
        return int(found) if found else None

    def pause(self, seconds: float) -> None:
        """Hold every call of every process sharing the key for ``seconds``."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        milliseconds = max(int(seconds * 1000), 1)
        self._later(self._eval("pause the fleet", _PAUSE, [self._pause], [milliseconds]))

    def _later(self, work: Any) -> None:
        # Called where the caller cannot wait (also while it is being cancelled): the
        # update goes out in a task of its own, and aclose() waits for it. Updates reach
        # Redis in the order they were made, as the in-process limiter takes them: the
        # rule reads the count of accepted calls at each refusal.
        task = asyncio.get_running_loop().create_task(self._after(self._last, work))
        self._last = task
        self._pending.add(task)
        task.add_done_callback(self._settled)

    @staticmethod
    async def _after(previous: asyncio.Task[None] | None, work: Any) -> None:
        try:
            if previous is not None:
                await asyncio.wait([previous])
        except BaseException:
            work.close()  # cancelled before its turn: it never runs, and says nothing
            raise
        await work

    def _settled(self, task: asyncio.Task[None]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("could not update the shared rate limit: %s", task.exception())

    def estimate(self, calls: int, now: float | None = None) -> float:
        """Rough seconds until ``calls`` more calls could all have started (for ETAs)."""
        now = self._clock() if now is None else now
        pause = max(self._paused_until - now, 0.0)
        rounds = max(calls - 1, 0) // max(self._limit_seen, 1)
        return pause + rounds * (self._rate.period)

    async def flush(self) -> None:
        """Wait until every answer and pause recorded so far has reached Redis."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def aclose(self) -> None:
        await self.flush()
        await self._redis.aclose()
