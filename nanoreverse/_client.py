"""AsyncClient: the session, the key, one call, and the rule for retrying it.

A call goes: source → preflight (no network) → limiter slot → request with a
streamed body → status check → the answer as an AnalysisStream. Retries
happen only inside that opening step, before any byte of the answer has been
handed to the caller, and only when the server surely did no work: a 429, a
503, or a request that never fully left the machine.
"""

from __future__ import annotations

import email.utils
import logging
import os
import time
from collections.abc import AsyncIterable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base, wait_exponential, wait_random

from ._body import RequestBody
from ._config import (
    API_KEY_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_RATE_LIMIT,
    ENDPOINT,
    LOCALES,
    Backoff,
    RateLimit,
    Timeout,
    __version__,
)
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    InvalidInputError,
    NanoReverseError,
    RateLimitError,
    ServiceUnavailableError,
    error_from_response,
)
from ._ratelimit import Limiter, Slot
from ._sources import Prepared, SourceLike, as_source
from ._stream import AnalysisStream

if TYPE_CHECKING:
    from ._batch import BatchResults, Event

logger = logging.getLogger("nanoreverse")

_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# An error answer is short JSON or an HTML page; never read more of it than this.
_ERROR_BODY_LIMIT = 64 * 1024


@dataclass
class CallHooks:
    """What a batch wants to hear about one call while it is being opened."""

    on_attempt: Callable[[int], None] | None = None
    on_retry: Callable[[NanoReverseError, float], None] | None = None
    on_rate_wait: Callable[[float], None] | None = None


def check_locale(locale: str) -> str:
    if locale not in LOCALES:
        raise InvalidInputError(
            f"locale {locale!r} is not supported; use one of {', '.join(LOCALES)}",
            preflight=True,
        )
    return locale


def _check_base_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host:
        return base_url.rstrip("/")
    if parts.scheme == "http" and (host in _LOOPBACK_HOSTS or host.startswith("127.")):
        return base_url.rstrip("/")
    raise ValueError(
        f"base_url must be https:// (or http:// to this machine: 127.0.0.1, localhost, [::1]) "
        f"so the API key never crosses a network in clear text; got {base_url!r}"
    )


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


def _is_retryable(error: BaseException, backoff: Backoff) -> bool:
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


def _describe(error: BaseException) -> str:
    if isinstance(error, APIError):
        return f"{error.status} {error.code or ''}".strip()
    return type(error).__name__


class AsyncClient:
    """A client of the Video Reverse Prompt API. Use it as an async context manager.

    >>> async with nr.AsyncClient() as client:                  # doctest: +SKIP
    ...     print(await client.analyze("ad.mp4").text())
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        locale: str = "en",
        max_retries: int = 4,
        rate_limit: RateLimit | None = DEFAULT_RATE_LIMIT,
        timeout: Timeout = Timeout(),  # noqa: B008 - frozen, so sharing the default is safe
        backoff: Backoff = Backoff(),  # noqa: B008
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries}")
        self.base_url = _check_base_url(base_url)
        self.locale = check_locale(locale)
        self.max_retries = max_retries
        self.timeout = timeout
        self.backoff = backoff
        self.limiter = Limiter(rate_limit)
        self._api_key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        self._session = session
        self._owns_session = session is None
        self._closed = False

    @property
    def rate_limit(self) -> RateLimit | None:
        return self.limiter.rate

    def __repr__(self) -> str:
        return f"<AsyncClient base_url={self.base_url!r} locale={self.locale!r}>"

    # -- lifecycle --------------------------------------------------------------------

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the session (unless it was given to the client)."""
        self._closed = True
        if self._owns_session and self._session is not None:
            await self._session.close()

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("this AsyncClient is closed; make a new one")
        if self._session is None:
            # Concurrency is bounded by analyze_many and the rate limiter, not the pool.
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        return self._session

    # -- one video ----------------------------------------------------------------------

    def analyze(self, source: SourceLike, *, locale: str | None = None) -> AnalysisStream:
        """Analyse one video; returns its streamed Markdown answer.

        >>> async with client.analyze("ad.mp4", locale="ja") as stream:   # doctest: +SKIP
        ...     async for chunk in stream:
        ...         print(chunk, end="")
        """
        return self._stream(source, locale=locale, hooks=None)

    def _stream(
        self, source: SourceLike, *, locale: str | None, hooks: CallHooks | None
    ) -> AnalysisStream:
        chosen = locale or self.locale

        async def opener(stream: AnalysisStream) -> aiohttp.ClientResponse:
            prepared = await self.prepare(source, chosen)
            return await self._send_with_retries(prepared, stream, hooks or CallHooks())

        return AnalysisStream(opener, source=source, locale=chosen)

    async def prepare(self, source: SourceLike, locale: str | None = None) -> Prepared:
        """Run every check that needs no network: key, locale, and the source itself."""
        if not self._api_key:
            raise AuthenticationError(
                f"no API key: pass api_key= to AsyncClient or set {API_KEY_ENV}",
                preflight=True,
            )
        chosen = check_locale(locale or self.locale)
        prepared = await as_source(source).prepare()
        prepared.fields["locale"] = chosen
        return prepared

    async def _send_with_retries(
        self, prepared: Prepared, stream: AnalysisStream, hooks: CallHooks
    ) -> aiohttp.ClientResponse:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_retries + 1),
            retry=retry_if_exception(lambda e: _is_retryable(e, self.backoff)),
            wait=wait_retry_after(
                wait_exponential(multiplier=self.backoff.initial, max=self.backoff.maximum)
                + wait_random(0, self.backoff.jitter)
            ),
            before_sleep=lambda state: self._before_retry(state, stream, hooks),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                stream.attempts = attempt.retry_state.attempt_number
                if hooks.on_attempt:
                    hooks.on_attempt(stream.attempts)
                return await self._send(prepared, stream, hooks)
        raise AssertionError("unreachable: tenacity reraises the last error")

    def _before_retry(
        self, state: RetryCallState, stream: AnalysisStream, hooks: CallHooks
    ) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.upcoming_sleep
        assert isinstance(error, NanoReverseError)
        if isinstance(error, RateLimitError | ServiceUnavailableError):
            # A 429 (or 503) is about the key or the service, not this call: hold every call.
            self.limiter.pause(wait)
        logger.warning(
            "retrying %s in %.1f s after %s (attempt %d of %d)",
            stream.source,
            wait,
            _describe(error),
            state.attempt_number + 1,
            self.max_retries + 1,
        )
        if hooks.on_retry:
            hooks.on_retry(error, wait)

    async def _send(
        self, prepared: Prepared, stream: AnalysisStream, hooks: CallHooks
    ) -> aiohttp.ClientResponse:
        asked = time.monotonic()
        slot = await self.limiter.acquire(hooks.on_rate_wait)
        stream.rate_limit_wait += time.monotonic() - asked
        body = RequestBody(prepared)
        try:
            response = await self._get_session().post(
                self.base_url + ENDPOINT,
                data=body,
                headers=self._headers(),
                timeout=aiohttp.ClientTimeout(
                    total=self.timeout.total,
                    sock_connect=self.timeout.connect,
                    sock_read=self.timeout.read,
                ),
                allow_redirects=False,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._connection_error(exc, body, slot) from None
        except BaseException:
            # Cancelled mid-request: the place in the window is freed only if nothing was sent.
            if body.sent_at is None:
                self.limiter.release(slot)
            else:
                self.limiter.answered(slot, accepted=True)
            raise
        if response.status == 200:
            self.limiter.answered(slot, accepted=True)
            return response
        error = await self._error_from(response)
        # Only a 429 that does not say when to come back teaches the limiter a lower rate.
        self.limiter.answered(
            slot, accepted=response.status != 429, learn=error.retry_after is None
        )
        raise error

    def _connection_error(
        self, exc: BaseException, body: RequestBody, slot: Slot
    ) -> NanoReverseError:
        """Translate every aiohttp failure to ours: the one place this happens."""
        if body.error is not None:
            self.limiter.release(slot)
            return (
                body.error
                if isinstance(body.error, NanoReverseError)
                else APIConnectionError(str(body.error))
            )
        if body.sent_at is None:
            # The server never had the whole request, so it cannot have done (or charged) it.
            self.limiter.release(slot)
            reason = "timed out connecting" if isinstance(exc, TimeoutError) else "could not send"
            return APIConnectionError(
                f"{reason} to {self.base_url}: {type(exc).__name__}: {exc}", request_sent=False
            )
        self.limiter.answered(slot, accepted=True)
        if isinstance(exc, TimeoutError):
            return APITimeoutError(
                f"no answer from {self.base_url} within Timeout.read={self.timeout.read} s; "
                "the request was sent, so it is not retried (the credit may be spent)"
            )
        return APIConnectionError(
            f"the connection to {self.base_url} broke before the answer began "
            f"({type(exc).__name__}); the request was sent, so it is not retried"
        )

    async def _error_from(self, response: aiohttp.ClientResponse) -> APIError:
        try:
            body = await response.content.read(_ERROR_BODY_LIMIT)
        except (aiohttp.ClientError, TimeoutError):
            body = b""
        finally:
            response.release()
        return error_from_response(
            response.status,
            body,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            secret=self._api_key,
        )

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._api_key}",
            "User-Agent": f"nanoreverse/{__version__}",
            "Accept": "text/plain, application/json",
        }

    # -- many videos --------------------------------------------------------------------

    def analyze_many(
        self,
        sources: Iterable[SourceLike] | AsyncIterable[SourceLike],
        *,
        concurrency: int = 4,
        locale: str | None = None,
        ordered: bool = False,
        max_credits: int | None = None,
        on_event: Callable[[Event], Any] | None = None,
    ) -> AbstractAsyncContextManager[BatchResults]:
        """Analyse many videos, at most ``concurrency`` at once; results as they complete.

        >>> async with client.analyze_many(paths, concurrency=4) as results:  # doctest: +SKIP
        ...     async for result in results:
        ...         print(result.source, result.ok)
        """
        from ._batch import analyze_many

        return analyze_many(
            self,
            sources,
            concurrency=concurrency,
            locale=locale,
            ordered=ordered,
            max_credits=max_credits,
            on_event=on_event,
        )
