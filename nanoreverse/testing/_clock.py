"""A clock whose sleeps pass at once, for tests of retries and pauses."""

from __future__ import annotations

import anyio.lowlevel

from .._clock import Clock


class InstantClock(Clock):
    """Each sleep returns at once and moves this clock ahead by its length; ``slept`` lists
    them. Give it to a client so that its retries wait no real time, yet the waits it
    chose (a ``Retry-After``, the backoff) can be checked.

    >>> clock = InstantClock()
    >>> client = nr.AsyncClient(key, base_url=emu.base_url, clock=clock)  # doctest: +SKIP
    >>> # ... a 429 with Retry-After: 30, then a 200:
    >>> clock.slept                                                      # doctest: +SKIP
    [30.0]

    A window the client keeps (``rate_limit=``) runs ahead of the server's by each jump:
    test the window itself on the real clock. A shared limiter's window and pauses
    (``RateLimit(shared=...)``) keep to the Redis server's clock and pass in real time.
    """

    def __init__(self, ahead: float = 0.0) -> None:
        """``ahead``: seconds this clock starts ahead of the real one (a test's files then
        count as settled, as if a run came that much later)."""
        self.slept: list[float] = []
        self._ahead = ahead

    def now(self) -> float:
        return super().now() + self._ahead

    def wall_ns(self) -> int:
        return super().wall_ns() + int(self._ahead * 1e9)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self._ahead += seconds
        await anyio.lowlevel.checkpoint()  # still a point where the caller may be cancelled
