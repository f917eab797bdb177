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

# KEYS: window, pause, learned, probe.  ARGV: slot id, calls, period ms.
# Returns {1, server now ms} for a slot, or {0, ms to wait}.
_ACQUIRE = (
    _NOW
    + """
local period, calls = tonumber(ARGV[3]), tonumber(ARGV[2])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return {0, paused - now} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local live = redis.call('ZCARD', KEYS[1])
local limit = tonumber(redis.call('GET', KEYS[3]) or ARGV[2])
if live >= limit and limit < calls then
  local probe_at = tonumber(redis.call('GET', KEYS[4]) or '0')
  if now >= probe_at then  -- look one call above the learned limit, once per two windows
    limit = limit + 1
    redis.call('SET', KEYS[4], now + 2 * period, 'PX', 4 * period)
  end
end
if live < limit then
  redis.call('ZADD', KEYS[1], now + period, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], 2 * period)
  return {1, now}
end
local oldest = redis.call('ZRANGE', KEYS[1], live - limit, live - limit, 'WITHSCORES')
return {0, math.max(tonumber(oldest[2]) - now, 1)}
"""
)

# KEYS: window, learned.  ARGV: slot id, expires at ms (0: remove), learn (1/0), calls, period.
_ANSWER = (
    _NOW
    + """
local calls, period = tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local learned = tonumber(redis.call('GET', KEYS[2]) or ARGV[4])
if ARGV[2] == '0' then
  redis.call('ZREM', KEYS[1], ARGV[1])  -- refused: the server did not count it
  if ARGV[3] == '1' then
    local live = math.max(redis.call('ZCARD', KEYS[1]), 1)
    if live < learned then redis.call('SET', KEYS[2], live, 'PX', 20 * period) end
  end
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', ARGV[2], ARGV[1])
local live = redis.call('ZCARD', KEYS[1])
if live > learned then  -- the server took more than we thought
  if live >= calls then redis.call('DEL', KEYS[2])
  else redis.call('SET', KEYS[2], live, 'PX', 20 * period) end
end
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
        self._window, self._pause = f"{prefix}:window", f"{prefix}:pause"
        self._learned, self._probe = f"{prefix}:learned", f"{prefix}:probe"
        self._period_ms = int((rate.period) * 1000)
        self._redis = RedisConnection(self.url)
        self._pending: set[asyncio.Task[None]] = set()
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
        keys = [self._window, self._pause, self._learned, self._probe]
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
            self._later(self._answer(slot, expires_ms=0, learn=False))

    def answered(self, slot: SharedSlot, *, accepted: bool, learn: bool = True) -> None:
        """Record the server's verdict; a 429 gives the place back and teaches the limit.

        Unlike the in-process limiter, every 429 teaches (``learn`` is not consulted): with
        several processes, a ``Retry-After`` pause alone lets each of them meet the same
        refusal again in the next window.
        """
        self.sent(slot)
        assert slot.sent_ms is not None
        expires = slot.sent_ms + self._period_ms if accepted else 0
        self._later(self._answer(slot, expires_ms=expires, learn=True))

    async def _answer(self, slot: SharedSlot, *, expires_ms: float, learn: bool) -> None:
        args = [slot.id, int(expires_ms), int(learn), self._rate.calls, self._period_ms]
        await self._eval("record an answer", _ANSWER, [self._window, self._learned], args)

    def pause(self, seconds: float) -> None:
        """Hold every call of every process sharing the key for ``seconds``."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        milliseconds = max(int(seconds * 1000), 1)
        self._later(self._eval("pause the fleet", _PAUSE, [self._pause], [milliseconds]))

    def _later(self, work: Any) -> None:
        # Called where the caller cannot wait (also while it is being cancelled): the
        # update goes out at once in its own task, and aclose() waits for it.
        task = asyncio.get_running_loop().create_task(work)
        self._pending.add(task)
        task.add_done_callback(self._settled)

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

    async def aclose(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        await self._redis.aclose()
