"""When a call is retried, and how long to wait: tenacity's policies, in one loop.

The rule, stated once: a call is retried only when the server surely did not do the
work. That is a request that never fully left the machine (connection refused, an
upload the server stopped reading), or a **refusal**: a 429 or a 503, whatever its
errorCode, because those are about the key or the service rather than this call
(so a refusal also holds every other call of the client: see ``is_refusal``).
Nothing else: once the server has the whole request it may have done the work and
charged for it. The wait is the server's ``Retry-After`` when it sends one, else
exponential backoff with jitter.

The policies are tenacity's objects (stop, retry, wait), asked by one explicit loop as
openai-python's is: most calls never fail, and building tenacity's ``AsyncRetrying`` for
each cost a quarter of the client's own CPU per call (measured).
"""

from __future__ import annotations

import email.utils
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tenacity import RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_base, wait_exponential, wait_random

from .._clock import REAL_CLOCK
from .._config import Backoff
from .._errors import APIConnectionError, APIError, NanoReverseError, may_have_been_paid

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


def is_refusal(error: BaseException) -> bool:
    """A 429 or a 503: the server refused the call without doing it, for a reason about
    the key or the service (so every call of the client should hold off)."""
    return isinstance(error, APIError) and error.status in (429, 503)


def is_retryable(error: BaseException, backoff: Backoff) -> bool:
    """Whether the server surely did not do the work (``may_have_been_paid``, the one rule)
    and trying again can help: a request that never left, or a refusal whose wait is not
    absurdly long. A 400 was not paid either, but would fail the same way again."""
    if may_have_been_paid(error):
        return False
    if isinstance(error, APIConnectionError):
        return True
    if is_refusal(error):
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


#: Retries of a 503 SERVICE_UNAVAILABLE, "a service configuration issue" in the vendor's
#: table (unlike AI_SERVICE_ERROR, "temporarily unavailable"): a configuration is not
#: fixed in seconds, so one more try, not the whole ``max_retries``.
MISCONFIGURED_RETRIES = 1


class stop_when_misconfigured(stop_base):
    """Stop once a SERVICE_UNAVAILABLE answer has had its retries."""

    def __call__(self, retry_state: RetryCallState) -> bool:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        misconfigured = getattr(error, "code", None) == "SERVICE_UNAVAILABLE"
        return misconfigured and retry_state.attempt_number > MISCONFIGURED_RETRIES


class RetryPolicy:
    """``max_retries`` and a Backoff, as tenacity stop/retry/wait policies.

    >>> policy = RetryPolicy(max_retries=2, backoff=Backoff(initial=0.1))
    """

    def __init__(
        self,
        max_retries: int,
        backoff: Backoff,
        sleep: Callable[[float], Awaitable[Any]] = REAL_CLOCK.sleep,
    ) -> None:
        self.max_retries = max_retries
        self.stop = stop_after_attempt(max_retries + 1) | stop_when_misconfigured()
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
        is told before each wait.

        One loop, every attempt alike, tenacity's policies deciding each retry, stop and
        wait. Tenacity's own state is built only when an attempt fails: measured on
        2026-11-30, building an ``AsyncRetrying`` for every call cost 40 µs, a quarter of
        the client's whole CPU per call (164 µs, ``benchmarks/overhead.py``).
        """
        state: RetryCallState | None = None
        for number in itertools.count(1):
            try:
                return await attempt(number)
            except NanoReverseError as error:
                if state is None:
                    state = RetryCallState(None, None, (), {})  # type: ignore[arg-type]
                state.attempt_number = number
                state.set_exception((type(error), error, error.__traceback__))
                if not self.retry(state) or self.stop(state):
                    raise
                wait = self.wait(state)
                on_retry(error, number, wait)
                await self.sleep(wait)
        raise AssertionError("unreachable: the loop above returns or raises")
