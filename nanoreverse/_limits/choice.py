"""What a client's limiter is, whichever: the interface both keep, and which one a client
gets (the in-process window, or the one shared on Redis)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from .._clock import REAL_CLOCK, Clock
from .._config import RateLimit
from .local import Limiter


class RateLimiter(Protocol):
    """What the client holds to pace its calls, in-process or shared (``shared.py``)."""

    rate: RateLimit | None

    async def acquire(self, on_wait: Callable[[float], None] | None = None) -> Any:
        """Wait until a call may start; returns its slot."""

    def sent(self, slot: Any) -> None:
        """The slot's request is fully sent."""

    def release(self, slot: Any) -> None:
        """The slot's call never reached the server."""

    def answered(self, slot: Any, *, accepted: bool) -> None:
        """The server answered (``accepted=False``: a 429)."""

    def pause(self, seconds: float) -> None:
        """Hold every call for ``seconds``."""

    def estimate(self, calls: int, now: float | None = None) -> float:
        """Rough seconds until ``calls`` more calls could all have started."""

    async def learned_limit(self) -> int | None:
        """The limit learned from refusals (None: the configured one holds)."""

    async def flush(self) -> None:
        """Wait until every answer recorded so far has reached the limiter's state."""

    async def aclose(self) -> None:
        """Finish pending updates and close connections."""


def make_limiter(rate: RateLimit | None, scope: str, clock: Clock = REAL_CLOCK) -> RateLimiter:
    """The in-process limiter, or the one shared on Redis when ``rate.shared`` is set.

    The shared one keeps its window and pauses on the Redis server's clock, so an
    injected ``clock`` dates only its local bookkeeping there."""
    if rate is not None and rate.shared is not None:
        from .shared import RedisLimiter  # redis loads only for a shared limit

        return RedisLimiter(rate, scope, clock=clock.now)
    return Limiter(rate, clock=clock.now)
