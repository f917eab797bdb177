"""One key's rate limit shared by every process and machine that uses it, on Redis.

The same rules as the in-process :class:`~nanoreverse._limits.local.Limiter`, with the state
in Redis so that every process sees it: the sliding window of calls, the pause a 429 (or
503) sets for everyone, and the limit learned when the server's turned out lower than
configured. Each decision is one Lua script (atomic, one round trip) that reads the
clock of the Redis server, so machines whose clocks differ still agree.

A slot taken and not yet sent counts for one window from when it was taken: a process
that dies holding it never blocks the others for longer than that. A call refused with
429 gives its place back (the server did not count it).

Redis may lose the state (a restart without persistence, an evicting policy): the window
would then look empty and the fleet would start a window's worth of calls the server
still counts. So the state carries an epoch, and each process keeps its own places; a
process that finds a new epoch puts its places back before taking another (the places
of a process that died meanwhile are lost with it).
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

import anyio

from .._clock import REAL_CLOCK
from .._config import RateLimit
from .._redis import RedisConnection
from .scripts import ACQUIRE, ANSWER, PAUSE, RESTORE

logger = logging.getLogger("nanoreverse")

#: How long closing waits for the last updates to reach Redis.
_CLOSE_WAIT = 10.0


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
        self._keys = [f"{prefix}:{name}" for name in (*names, "probe_wait", "epoch")]
        # This process's places (id → when it frees, counted until; Redis ms), to put back
        # if Redis loses the window, and the epoch of the state they were taken in.
        self._places: dict[str, tuple[float, float]] = {}
        self._epoch = ""
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
        while True:
            args = [slot_id, self._rate.calls, self._period_ms, self._epoch, uuid.uuid4().hex]
            # The Redis clock read in the script is matched with ours before asking: a send is
            # then dated late by at most a round trip, never early (a place must not free
            # before the server's does).
            asked = self._clock()
            found = await self._eval("take a rate-limit slot", ACQUIRE, keys, args)
            granted, value, epoch = int(found[0]), int(found[1]), _text(found[2])
            if granted == 2:
                await self._restore(epoch)
                continue
            self._epoch = epoch
            if granted:
                self._keep(slot_id, value + self._period_ms, 0, now=value)
                return SharedSlot(slot_id, float(value), asked)
            wait = value / 1000
            if on_wait is not None:
                on_wait(wait)
            # Look again when the oldest place frees (or the pause ends): measured, looking
            # every twentieth of a window cost up to 10 round trips per call for nothing.
            await REAL_CLOCK.sleep(wait)  # Redis's time: the window is measured there

    def sent(self, slot: SharedSlot) -> None:
        """The request is fully sent: its place is dated from now (on the Redis clock)."""
        if slot.sent_ms is None:
            slot.sent_ms = slot.server_ms + (self._clock() - slot.local) * 1000

    def release(self, slot: SharedSlot) -> None:
        """The call never reached the server: give its place back."""
        if slot.sent_ms is None:
            self._places.pop(slot.id, None)
            self._later(self._answer(slot, expires_ms=-1))

    def answered(self, slot: SharedSlot, *, accepted: bool) -> None:
        """Record the server's verdict; a 429 gives the place back, and teaches the limit
        by the rule in ``local.py``."""
        self.sent(slot)
        assert slot.sent_ms is not None
        expires = max(slot.sent_ms + self._period_ms, 1) if accepted else 0
        if accepted:
            counted = slot.sent_ms + self._counted_ms
            self._keep(slot.id, expires, counted, now=slot.sent_ms)
        else:
            self._places.pop(slot.id, None)
        self._later(self._answer(slot, expires_ms=expires))

    async def _answer(self, slot: SharedSlot, *, expires_ms: float) -> None:
        # An accepted call counts for learning over the window less the margin (local.py).
        counted = (slot.sent_ms or 0) + self._counted_ms
        args = [slot.id, self._rate.calls, self._period_ms, int(expires_ms), int(counted)]
        await self._eval("record an answer", ANSWER, self._keys, args)

    def _keep(self, slot_id: str, frees_ms: float, counted_ms: float, *, now: float) -> None:
        """Remember one of this process's places; forget those that have freed."""
        self._places[slot_id] = (frees_ms, counted_ms)
        for old in [k for k, (frees, _) in self._places.items() if frees <= now]:
            del self._places[old]

    async def _restore(self, epoch: str) -> None:
        """Redis lost the shared state: put this process's places back in the new one."""
        args: list[Any] = [self._period_ms]
        for slot_id, (frees, counted) in self._places.items():
            args += [slot_id, int(frees), int(counted)]
        await self._eval("put the places back", RESTORE, [self._keys[0], self._keys[4]], args)
        logger.warning(
            "the shared rate limit's state on Redis was lost (a restart, or keys evicted): "
            "this process put its %d places back in the window",
            len(self._places),
        )
        self._epoch = epoch

    async def learned_limit(self) -> int | None:
        """The limit learned on Redis (None: the configured one holds), for tests and ETAs."""
        redis = self._redis.client()
        found = await self._redis.run("read the learned limit", redis.get(self._keys[2]))
        return int(found) if found else None

    def pause(self, seconds: float) -> None:
        """Hold every call of every process sharing the key for ``seconds``."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        milliseconds = max(int(seconds * 1000), 1)
        self._later(self._eval("pause the fleet", PAUSE, [self._pause], [milliseconds]))

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
        # Done tasks are skipped here, not left to _settled: that callback runs on a later
        # turn of the loop, and since Python 3.12 gather() over tasks already done returns
        # without yielding, so waiting on them until _settled ran spun forever (a process
        # that printed its summary and never exited).
        while pending := [task for task in self._pending if not task.done()]:
            await asyncio.wait(pending)

    async def aclose(self) -> None:
        # Bounded: an update Redis does not take in time is one verdict lost (its place
        # expires within a window anyway), never a process that cannot exit.
        with anyio.move_on_after(_CLOSE_WAIT) as waited:
            await self.flush()
        if waited.cancelled_caught:
            logger.warning(
                "the shared rate limit's last %d updates did not reach Redis in %g s",
                len(self._pending),
                _CLOSE_WAIT,
            )
            for task in list(self._pending):
                task.cancel()
        await self._redis.aclose()


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
