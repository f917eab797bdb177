"""Where the client's waits come from: the time, and sleeping.

Real by default. A test passes ``AsyncClient(clock=InstantClock())`` (from
``nanoreverse.testing``) so that a retry's backoff and the pause a refusal puts on the
rate limiter pass at once, yet are recorded, as httpx lets a test pass its transport.
Both the retry policy and the in-process limiter read this one clock: a pause set from
it ends when its sleep does, whichever clock it is.
"""

from __future__ import annotations

import time

import anyio


class Clock:
    """The real clock: ``time.monotonic``, ``time.time_ns`` and ``anyio.sleep``.

    >>> Clock().now() > 0
    True
    """

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def now(self) -> float:
        """Seconds on a monotonic clock."""
        return time.monotonic()

    def wall_ns(self) -> int:
        """The time of day, in nanoseconds since the epoch (file times are on this clock)."""
        return time.time_ns()

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        await anyio.sleep(seconds)


REAL_CLOCK = Clock()
