"""One call on the wire with its retries: each attempt, the pause a refusal puts on every
call of the client, and the log line a retry leaves."""

from __future__ import annotations

import logging

from .._errors import NanoReverseError
from .._limits.choice import RateLimiter
from .answers import HTTPAnswer
from .attempt import Requester
from .calls import Call, CallHooks
from .errors import describe
from .retry import RetryPolicy, is_refusal

logger = logging.getLogger("nanoreverse")


class Caller:
    """Sends a call, retrying what the server surely did not do (see ``retry.py``).

    >>> answer = await Caller(requester, limiter, policy).send(call, hooks)  # doctest: +SKIP
    """

    def __init__(self, requester: Requester, limiter: RateLimiter, policy: RetryPolicy) -> None:
        self._requester, self._limiter, self._policy = requester, limiter, policy

    async def send(self, call: Call, hooks: CallHooks) -> HTTPAnswer:
        async def attempt(number: int) -> HTTPAnswer:
            call.record.attempts = number
            if hooks.on_attempt:
                hooks.on_attempt(number)
            return await self._requester.send(call.prepared, call.locale, call.record, hooks)

        def before_retry(error: NanoReverseError, number: int, wait: float) -> None:
            if is_refusal(error):  # about the key or the service, not this call
                self._limiter.pause(wait)
            logger.warning(
                "retrying %s in %.1f s after %s (attempt %d of %d)",
                call.source,
                wait,
                describe(error),
                number + 1,
                self._policy.max_retries + 1,
            )
            if hooks.on_retry:
                hooks.on_retry(error, wait)

        return await self._policy.call(attempt, before_retry)
