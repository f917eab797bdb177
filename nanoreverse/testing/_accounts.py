"""One API key as the emulator sees it: its credits and its sliding window of calls."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

from .._config import RateLimit


@dataclass
class Account:
    """What the service keeps per key.

    >>> account, limit = Account(credits=1), RateLimit(1, per=60.0)
    >>> account.admit(limit, now=0.0), account.admit(limit, now=1.0)
    (None, 59.0)
    """

    credits: int | None
    used: int = 0
    #: When each call in the current window was let in.
    window: collections.deque[float] = field(default_factory=collections.deque)

    def can_pay(self) -> bool:
        return self.credits is None or self.used < self.credits

    def admit(self, limit: RateLimit, now: float) -> float | None:
        """Let a call in (None), or say how many seconds until the window has room."""
        window = self.window
        while window and window[0] <= now - limit.per:
            window.popleft()
        if len(window) < limit.calls:
            window.append(now)
            return None
        return window[0] + limit.per - now
