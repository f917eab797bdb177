"""The client-wide rate limiter: a sliding window that learns the server's real limit.

Every call of one client takes a slot here before it goes out. A slot is
dated when its request has been fully sent (the server has surely counted it
by then), so the window never frees a place before the server's does.

When the server answers 429 anyway (its limit is lower than the client was
told, or another program shares the key), the limiter *learns*. The rule, one for
both limiters (``shared.py`` keeps it on Redis, and one test matrix holds both to it):

- a lower limit is learned on evidence only: two refusals in a row that saw about the
  same number of calls accepted in the window (within a quarter: in a burst, answers
  land out of order); the larger is what the server allows. One stray 429, refusals
  far apart in count, or refusals while none was accepted teach nothing (the backoff
  waits them out);
- a 429 that says when to come back (``Retry-After``) teaches as any other: the pause
  covers this window, and the evidence keeps the next one from meeting it again;
- more calls accepted in the window than the learned limit raise it;
- one call at a time probes above the learned limit, two windows after it was learned;
  a refused probe doubles the wait before the next, an accepted one looks again at once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio

from .._config import RateLimit


def _near(count: int, before: int) -> bool:
    """Two refusals' counts of accepted calls tell of one limit (within a quarter)."""
    return abs(count - before) <= before // 4


@dataclass(eq=False)
class Slot:
    """One call's place in the window."""

    sent_at: float | None = None
    accepted: bool | None = None
    probe: bool = False


class Limiter:
    """Decides when the next call of a client may start.

    >>> limiter = Limiter(RateLimit(2, per=1.0))
    >>> limiter.delay()
    0.0
    """

    def __init__(
        self, rate: RateLimit | None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self._clock = clock
        self._slots: list[Slot] = []
        self._paused_until = -math.inf
        self._learned: int | None = None
        self._refused_at: int | None = None  # accepted calls in the window at the last 429
        self._probe_wait = 2 * rate.per if rate else 0.0
        self._next_probe_at = -math.inf
        self._changed: anyio.Event | None = None

    # -- what the window allows (pure: no waiting, clock passed in) ---------------------

    @property
    def limit(self) -> int | None:
        """Calls allowed per window now: the learned limit, else the configured one."""
        if self.rate is None:
            return None
        return self._learned if self._learned is not None else self.rate.calls

    def _live(self, now: float) -> list[Slot]:
        assert self.rate is not None
        period = self.rate.period
        self._slots = [s for s in self._slots if s.sent_at is None or s.sent_at + period > now]
        return self._slots

    def _window_delay(self, now: float) -> float:
        limit = self.limit
        if limit is None or self.rate is None:
            return 0.0
        live = self._live(now)
        if len(live) < limit:
            return 0.0
        if self._probe_due(now):
            return 0.0
        period = self.rate.period
        expiries = sorted(s.sent_at + period for s in live if s.sent_at is not None)
        needed = len(live) - limit
        if needed < len(expiries):
            wait = expiries[needed] - now
            if self._learned is not None and not self._probe_in_flight():
                wait = min(wait, self._next_probe_at - now)
            return max(wait, 0.0)
        return math.inf  # every place is held by a call still sending: wait for one

    def _probe_due(self, now: float) -> bool:
        return (
            self._learned is not None
            and self.rate is not None
            and self._learned < self.rate.calls
            and now >= self._next_probe_at
            and not self._probe_in_flight()
        )

    def _probe_in_flight(self) -> bool:
        return any(s.probe and s.accepted is None for s in self._slots)

    def delay(self, now: float | None = None) -> float:
        """Seconds until a new call may start (0.0: now; inf: when a call in flight is sent)."""
        now = self._clock() if now is None else now
        return max(self._paused_until - now, self._window_delay(now), 0.0)

    def estimate(self, calls: int, now: float | None = None) -> float:
        """Rough seconds until ``calls`` more calls could all have started (for ETAs)."""
        now = self._clock() if now is None else now
        pause = max(self._paused_until - now, 0.0)
        limit = self.limit
        if limit is None or self.rate is None or calls <= 0:
            return pause
        live = self._live(now)
        free = limit - len(live)
        if calls <= free:
            return pause
        period = self.rate.period
        expiries = sorted(period if s.sent_at is None else s.sent_at + period - now for s in live)
        beyond = calls - max(free, 0) - 1
        rounds, index = divmod(beyond, limit)
        within = expiries[index] if index < len(expiries) else period
        return max(pause, rounds * period + max(within, 0.0))

    # -- taking and recording slots ------------------------------------------------------

    def try_take(self, now: float | None = None) -> Slot | None:
        """A slot if a call may start now, else None."""
        now = self._clock() if now is None else now
        if self.delay(now) > 0:
            return None
        slot = Slot()
        limit = self.limit
        if limit is None:
            return slot  # no window to keep
        if len(self._live(now)) >= limit:
            slot.probe = True  # only reachable when a probe is due
        self._slots.append(slot)
        return slot

    async def acquire(self, on_wait: Callable[[float], None] | None = None) -> Slot:
        """Wait until a call may start, and take its slot.

        ``on_wait`` is told each wait before it begins (seconds, or inf).
        """
        if self.rate is None and self._paused_until == -math.inf:
            return Slot()  # no window and never paused: nothing to keep
        while True:
            slot = self.try_take()
            if slot is not None:
                return slot
            wait = self.delay()
            if on_wait is not None:
                on_wait(wait)
            event = self._event()
            with anyio.move_on_after(wait if math.isfinite(wait) else 3600.0):
                await event.wait()

    def sent(self, slot: Slot) -> None:
        """The call's request is fully sent (the server has counted it)."""
        if self.rate is None:
            return
        if slot.sent_at is None:
            slot.sent_at = self._clock()
            self._notify()

    def release(self, slot: Slot) -> None:
        """The call never reached the server (e.g. connection refused): free its place."""
        if self.rate is None:
            return
        if slot in self._slots and slot.sent_at is None:
            self._slots.remove(slot)
        self._notify()

    def answered(self, slot: Slot, *, accepted: bool) -> None:
        """Record the server's verdict: ``accepted=False`` for a 429 (see the rule above)."""
        if self.rate is None:
            return
        self.sent(slot)
        now = self._clock()
        slot.accepted = accepted
        if not accepted and slot in self._slots:
            self._slots.remove(slot)  # the server did not count a call it refused
        self._learn(slot, accepted, now)
        self._notify()

    def _accepted_in_window(self, now: float) -> int:
        """Calls the server took in its window. Counted over the window less the margin:
        counted over more, calls the server has already let go of would count, and the
        learned limit would climb past the server's."""
        assert self.rate is not None
        since = now - (self.rate.per - (self.rate.margin or 0.0))
        return sum(1 for s in self._live(now) if s.accepted and (s.sent_at or now) > since)

    def _learn(self, slot: Slot, accepted: bool, now: float) -> None:
        assert self.rate is not None
        in_window = self._accepted_in_window(now)
        if not accepted and slot.probe:
            # The limit is what we thought: look again, but twice as late as last time.
            self._probe_wait *= 2
            self._next_probe_at = now + self._probe_wait
        elif not accepted:
            # A lower limit is learned only on evidence: two refusals that saw about the
            # same number of accepted calls in the window (see the module's rule). One
            # stray 429, or several while none was accepted, is waited out by the
            # (bounded) backoff alone: taken as a limit, it once meant one call an hour.
            before = self._refused_at
            if in_window > 0 and before is not None and _near(in_window, before):
                self._learned = min(max(in_window, before), self.rate.calls)
                self._next_probe_at = now + self._probe_wait
            self._refused_at = in_window
        elif self._learned is not None and in_window > self._learned:
            self._learned = min(in_window, self.rate.calls)
            if slot.probe:
                # The server took one more than we thought: look for the next one soon.
                self._probe_wait = 2 * self.rate.per
                self._next_probe_at = now
        if self._learned is not None and self._learned >= self.rate.calls:
            self._learned = None

    def pause(self, seconds: float) -> None:
        """Hold every call of the client for ``seconds`` (after a 429)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        self._notify()

    # -- waking waiters -------------------------------------------------------------------
    # An Event made when someone waits, set and dropped on each change, rather than an
    # anyio.Condition: notifying a Condition needs its lock, and the changes come from
    # synchronous callbacks (a request fully sent, a call's answer).

    def _event(self) -> anyio.Event:
        if self._changed is None:
            self._changed = anyio.Event()
        return self._changed

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def learned_limit(self) -> int | None:
        """The limit learned from refusals (None: the configured one holds)."""
        return self._learned

    async def flush(self) -> None:
        """Nothing to wait for: every update is made at once, in this process."""

    async def aclose(self) -> None:
        """Nothing to close: the state lives in this process."""

    def __repr__(self) -> str:
        return f"<Limiter rate={self.rate!r} limit={self.limit}>"
