"""When a call is retried, and how long to wait: tenacity's policy objects, driven by one loop.

Retried: a 429 or a 503 answer, and a request that never fully left the machine
(connection refused). Nothing else: once the server has the whole request it
may have done the work and charged for it. The wait is the server's
``Retry-After`` when it sends one, else exponential backoff with jitter.

tenacity's ``AsyncRetrying`` would drive these same policies, but its action
machinery costs more per call than the rest of a call's client-side work; the
loop in :meth:`RetryPolicy.call` is all of it that we need.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from tenacity import RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base, wait_exponential, wait_random

from ._config import Backoff
from ._errors import APIConnectionError, APIError, NanoReverseError, RateLimitError

T = TypeVar("T")


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = time.time() if now is None else now
    return max(when.timestamp() - now, 0.0)


def is_retryable(error: BaseException, backoff: Backoff) -> bool:
    """Whether the server surely did not do the work (and a wait is not absurdly long)."""
    if isinstance(error, APIConnectionError) and not error.request_sent:
        return True
    if isinstance(error, RateLimitError) or (isinstance(error, APIError) and error.status == 503):
        retry_after = getattr(error, "retry_after", None)
        return retry_after is None or retry_after <= backoff.max_retry_after
    return False


class wait_retry_after(wait_base):
    """Wait what the server's ``Retry-After`` said, else what ``fallback`` says."""

    def __init__(self, fallback: wait_base) -> None:
        self.fallback = fallback

    def __call__(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return float(retry_after)
        return float(self.fallback(retry_state))


class RetryPolicy:
    """``max_retries`` and a Backoff, as tenacity stop/retry/wait policies.

    >>> policy = RetryPolicy(max_retries=2, backoff=Backoff(initial=0.1))
    """

    def __init__(
        self,
        max_retries: int,
        backoff: Backoff,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.stop = stop_after_attempt(max_retries + 1)
        self.retry = retry_if_exception(lambda error: is_retryable(error, backoff))
        self.wait = wait_retry_after(
            wait_exponential(multiplier=backoff.initial, max=backoff.maximum)
            + wait_random(0, backoff.jitter)
        )
        self.sleep = sleep

    async def call(
        self,
        attempt: Callable[[int], Awaitable[T]],
        on_retry: Callable[[NanoReverseError, int, float], None],
    ) -> T:
        """``attempt(n)`` until it succeeds or may not be retried; ``on_retry(error, n, wait)``
        is told before each wait."""
        number, state = 1, None
        while True:
            try:
                return await attempt(number)
            except NanoReverseError as error:
                if state is None:  # most calls never fail: no state for them
                    state = RetryCallState(cast(Any, None), None, (), {})
                state.set_exception((type(error), error, error.__traceback__))
                if not self.retry(state) or self.stop(state):
                    raise
                wait = self.wait(state)
                on_retry(error, state.attempt_number, wait)
                await self.sleep(wait)
                state.prepare_for_next_attempt()
                number = state.attempt_number
