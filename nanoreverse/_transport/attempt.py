"""One attempt of a call on the wire: a slot from the rate limiter, the request with its
streamed body, the answer's status checked, and what the limiter and the user's hooks are
told of the outcome. The client decides whether to try again (``retry.py``)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import aiohttp

from .._config import ENDPOINT, Timeout, __version__
from .._errors import APIError
from .._limits.choice import RateLimiter
from .._sources.kinds import Prepared
from .answers import HTTPAnswer
from .body import RequestBody
from .calls import CallHooks, CallRecord
from .errors import (
    FAILURES,
    describe,
    error_from,
    error_from_response,
    is_error_object,
    read_head,
    request_error,
)
from .http import Hook, RequestInfo, ResponseHook, Watch, check_hook


class Requester:
    """Sends one attempt; holds what every attempt shares (the key only in its headers)."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        timeout: Timeout,
        limiter: RateLimiter,
        session: Callable[[], aiohttp.ClientSession],
        on_request: Hook | None,
        on_response: ResponseHook | None,
    ) -> None:
        check_hook("on_request", on_request)
        check_hook("on_response", on_response)
        self._base_url = base_url
        self.url = base_url + ENDPOINT  # the one address every call posts to
        self._api_key = api_key
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "User-Agent": f"nanoreverse/{__version__}",
            "Accept": "text/plain, application/json",
        }
        self._timeout = aiohttp.ClientTimeout(
            total=timeout.total, sock_connect=timeout.connect, sock_read=timeout.read
        )
        self._read_timeout, self._write_timeout = timeout.read, timeout.write
        self._limiter = limiter
        self._session = session
        self._on_request, self._on_response = on_request, on_response

    async def send(
        self, prepared: Prepared, locale: str, record: CallRecord, hooks: CallHooks
    ) -> HTTPAnswer:
        """One attempt: a limiter slot, the request, and the answer if it is an analysis."""
        asked = time.monotonic()
        slot = await self._limiter.acquire(hooks.on_rate_wait)
        record.rate_limit_wait += time.monotonic() - asked
        if hooks.on_send:
            hooks.on_send()
        # The window counts from when the whole request is out: the server has it by then
        # (dated by the limiter's own clock, which a test may have put ahead).
        on_sent = (
            None if self._limiter.rate is None else functools.partial(self._limiter.sent, slot)
        )
        body = RequestBody(
            prepared, locale=locale, on_sent=on_sent, write_timeout=self._write_timeout
        )
        watch = None
        if self._on_request is not None or self._on_response is not None:
            info = RequestInfo(
                "POST", self.url, record.attempts, body.size or 0, prepared.upload is not None
            )
            watch = Watch(self._on_request, self._on_response, info)
        try:
            answer = await self._post(body)
        except BaseException as exc:
            status = exc.status if isinstance(exc, APIError) else None
            if status is None and body.sent_at is None:
                # Also on cancellation: a call that never fully left frees its place at once.
                self._limiter.release(slot)
            else:
                self._limiter.answered(slot, accepted=status != 429)
            if watch is not None:
                watch.answered(status, body.sent_at, describe(exc))
            raise
        self._limiter.answered(slot, accepted=True)
        if watch is not None:
            watch.answered(200, body.sent_at, None)
        return answer

    async def _post(self, body: RequestBody) -> HTTPAnswer:
        """The request, and its answer when it is an analysis; else the error it describes."""
        try:
            response = await self._session().post(
                self.url,
                data=body,
                headers=self._headers,
                timeout=self._timeout,
                allow_redirects=False,
            )
            if response.status == 200 and response.content_type != "application/json":
                return HTTPAnswer(response)
            if response.status != 200:
                raise await error_from(response, secret=self._api_key)
            # JSON where Markdown belongs: an error object must not pass as an analysis.
            head = await read_head(response)
            if not is_error_object(head):
                return HTTPAnswer(response, prefix=head)
            response.release()
            raise error_from_response(200, head, secret=self._api_key)
        except FAILURES as exc:
            sent = body.sent_at is not None
            raise request_error(
                exc, url=self._base_url, sent=sent, own=body.error, read_timeout=self._read_timeout
            ) from exc
