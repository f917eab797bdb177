"""AsyncClient: the checked settings and the public methods; what it owns and closes
(session, limiter, store) is in ``_parts.py``.

A call goes: source → preflight (no network) → limiter slot → request with a
streamed body → status check → the answer as an AnalysisStream. Retries
happen only inside that opening step, before any byte of the answer has been
handed to the caller, and only when the server surely did no work: a 429, a
503, or a request that never fully left the machine.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from ssl import SSLContext
from typing import TYPE_CHECKING, Any, Final

import aiohttp

from ._arguments import check_arguments
from ._batch.events import Event
from ._batch.results import BatchResults
from ._batch.run import BatchOptions
from ._batch.run import analyze_many as _analyze_many
from ._clock import REAL_CLOCK, Clock
from ._closing import AsyncCloses
from ._config import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BACKOFF,
    DEFAULT_BASE_URL,
    DEFAULT_RATE_LIMIT,
    DEFAULT_TIMEOUT,
    Backoff,
    RateLimit,
    Timeout,
    as_backoff,
    as_rate_limit,
    as_timeout,
    check_base_url,
    check_locale,
    clean_key,
)
from ._loops import LoopGuard
from ._parts import ClientParts
from ._sources.kinds import Source, SourceLike
from ._store import Store
from ._store.plan import Plan, plan_call
from ._transport.answers import Answer
from ._transport.calls import CallHooks, CallRecord
from ._transport.http import Hook, HTTPSettings, ResponseHook
from ._transport.retry import RetryPolicy
from ._transport.stream import AnalysisStream

logger = logging.getLogger("nanoreverse")
# A library speaks only where the application has set up logging.
logger.addHandler(logging.NullHandler())


_FIXED = frozenset(
    {"base_url", "locale", "max_retries", "timeout", "backoff", "rate_limit", "store", "scope"}
)


class AsyncClient(AsyncCloses):
    """A client of the Video Reverse Prompt API. Use it as an async context manager.

    Every argument is checked here, before any network traffic: a wrong type is a
    ``TypeError`` and a wrong value a ``ValueError`` that says what to pass.

    Args:
        api_key: The API key; None reads ``NANOPHOTO_API_KEY``. A missing key is an
            ``AuthenticationError`` at the first call, never shown in any text.
        base_url: The API's address; None reads ``NANOPHOTO_BASE_URL``, else
            ``https://nanophoto.ai``. ``http://`` only to this machine (the emulator).
        locale: The answer's language for calls that name none (one of ``nr.LOCALES``).
        max_retries: Retries of answers the server surely did not charge (429, 503, a
            failure before the request was sent).
        rate_limit: The client-side limit, shared by every call of this client: a
            ``RateLimit``, a number of calls per hour, or None for no limit.
        timeout: A ``Timeout``, or a number of seconds for every phase (as in httpx).
        backoff: The waits between retries: a ``Backoff``, or the first wait in seconds.
        session: An ``aiohttp.ClientSession`` to use (then not closed by the client).
        store: Where finished answers are kept so each video is paid once
            (``SQLiteStore``, ``RedisStore`` or your own ``Store``).
        proxy: An HTTP(S) proxy URL (else ``HTTPS_PROXY`` when ``trust_env``).
        ssl: An ``ssl.SSLContext`` for a private CA, or True for the system's.
        trust_env: Read the proxy and ``SSL_CERT_FILE`` from the environment.
        on_request: Called with a ``RequestInfo`` before each attempt is sent.
        on_response: Called with a ``ResponseInfo`` when each attempt is answered.
        clock: Where waits come from; tests pass ``testing.InstantClock()``.

    >>> async with nr.AsyncClient(timeout=30) as client:        # doctest: +SKIP
    ...     print(await client.analyze("ad.mp4").text())
    """

    # The settings are fixed once the client is made: each is also baked into what acts
    # on it (the session, the retry policy, the checked URL), so a later assignment would
    # silently not act. Final tells type checkers; __setattr__ tells everyone else.

    base_url: Final[str]
    """The API's address, checked (``https://nanophoto.ai`` unless given)."""
    locale: Final[str]
    """The locale of calls that name none."""
    max_retries: Final[int]
    """Retries of answers the server surely did not charge."""
    timeout: Final[Timeout]
    """The limits of each phase of a request."""
    backoff: Final[Backoff]
    """The waits between retries."""
    rate_limit: Final[RateLimit | None]
    """The client-side limit shared by every call (None: no limit)."""
    store: Final[Store | None]
    """Finished analyses by what the video is (None: every call asks the API)."""
    scope: Final[str]
    """A short hash naming this client's API key in stores and output folders: equal for
    one key, never the key itself.

    >>> nr.AsyncClient("nr-emulator-key").scope == nr.AsyncClient("other").scope
    False
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        locale: str = "en",
        max_retries: int = 4,
        rate_limit: RateLimit | int | None = DEFAULT_RATE_LIMIT,
        timeout: Timeout | float | None = DEFAULT_TIMEOUT,
        backoff: Backoff | float = DEFAULT_BACKOFF,
        session: aiohttp.ClientSession | None = None,
        store: Store | None = None,
        proxy: str | None = None,
        ssl: SSLContext | bool = True,
        trust_env: bool = True,
        on_request: Hook | None = None,
        on_response: ResponseHook | None = None,
        clock: Clock = REAL_CLOCK,
    ) -> None:
        check_arguments(max_retries, clock, api_key, session, store)
        timeout, backoff = as_timeout(timeout), as_backoff(backoff)
        rate_limit = as_rate_limit(rate_limit)
        self.base_url = check_base_url(base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL)
        self.locale = check_locale(locale)
        self.max_retries, self.timeout, self.backoff = max_retries, timeout, backoff
        api_key = clean_key(api_key if api_key is not None else os.environ.get(API_KEY_ENV))
        http = HTTPSettings(proxy, ssl, trust_env)
        if session is not None and not http.default:
            raise ValueError(
                "proxy=, ssl= and trust_env= configure the client's own session; with "
                "session=, set them on that session (they would not act)"
            )
        self._loop = LoopGuard()
        self._parts = ClientParts(
            self.base_url,
            api_key,
            timeout=timeout,
            rate_limit=rate_limit,
            retry=RetryPolicy(max_retries, backoff, sleep=clock.sleep),
            http=http,
            session=session,
            store=store,
            on_request=on_request,
            on_response=on_response,
            clock=clock,
        )
        self.rate_limit, self.store, self.scope = rate_limit, store, self._parts.scope

    if not TYPE_CHECKING:  # seen by mypy, it would make any attribute name assignable

        def __setattr__(self, name: str, value: object) -> None:
            if name in _FIXED and name in self.__dict__:
                raise AttributeError(
                    f"the client's {name} is fixed when it is made (it acts through the parts "
                    f"built then): make another client with {name}=..."
                )
            super().__setattr__(name, value)

    def __repr__(self) -> str:
        return f"<AsyncClient base_url={self.base_url!r} locale={self.locale!r}>"

    # -- lifecycle --------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the session (unless it was given to the client) and the store's connection.
        Answers still being read for a store are cut off here, and logged as such."""
        if self._parts.session is not None or self.store is not None:
            self._loop.check()  # closing from another loop cannot close its connections
        await self._parts.aclose()

    # -- one video ----------------------------------------------------------------------

    def analyze(
        self, source: SourceLike, *, locale: str | None = None, refresh: bool = False
    ) -> AnalysisStream:
        """Analyse one video; returns its streamed Markdown answer.

        With a ``store``, a stored answer is replayed with no request (``stream.cached``),
        and ``refresh=True`` asks the API again and replaces it.

        >>> async with client.analyze("ad.mp4", locale="ja") as stream:   # doctest: +SKIP
        ...     async for chunk in stream:
        ...         print(chunk, end="")
        """
        return self._stream(source, locale=locale, hooks=None, refresh=refresh)

    def _stream(
        self,
        source: SourceLike,
        *,
        locale: str | None,
        hooks: CallHooks | None,
        refresh: bool = False,
    ) -> AnalysisStream:
        chosen = self.locale if locale is None else check_locale(locale)
        # Written here alone, as the call goes; the stream and a batch only read it.
        record = CallRecord()

        async def opener() -> Answer:
            self._loop.check()
            return await self._parts.open(source, chosen, record, hooks, refresh)

        return AnalysisStream(opener, source=source, locale=chosen, record=record)

    async def plan(
        self, source: SourceLike, *, locale: str | None = None, refresh: bool = False
    ) -> Plan:
        """What ``analyze(source)`` would do now, sending nothing and writing nothing:
        replay it from the store, follow a call already paying for it, pay, or refuse it
        in preflight (the command line's ``--dry-run`` is built on this).

        >>> plan = await client.plan("ad.mp4")                  # doctest: +SKIP
        >>> plan.action
        'stored'
        """
        self._loop.check()
        chosen = self.locale if locale is None else check_locale(locale)
        return await plan_call(source, self._parts.prepare, self.store, self.scope, chosen, refresh)

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
        refresh: bool = False,
        stop_on_account_error: bool = False,
    ) -> AbstractAsyncContextManager[BatchResults]:
        """Analyse many videos, at most ``concurrency`` at once; results as they complete.

        With a ``store``, stored answers are replayed free (``result.cached``); ``refresh``
        asks the API again for each. ``stop_on_account_error`` starts no new call once one
        fails with ``AuthenticationError`` or ``InsufficientCreditsError`` (about the key,
        not the video); ``results.stats.stopped_by`` holds that error.

        >>> async with client.analyze_many(paths, concurrency=4) as results:  # doctest: +SKIP
        ...     async for result in results:
        ...         print(result.source, result.ok)
        """
        options = BatchOptions(
            locale=self.locale if locale is None else locale,
            concurrency=concurrency,
            ordered=ordered,
            max_credits=max_credits,
            refresh=refresh,
            stop_on_account_error=stop_on_account_error,
        )
        estimate = self._parts.limiter.estimate
        return _analyze_many(self._open_in_batch, sources, options, on_event, estimate)

    def _open_in_batch(
        self, source: Source, locale: str, hooks: CallHooks, refresh: bool
    ) -> AnalysisStream:
        return self._stream(source, locale=locale, hooks=hooks, refresh=refresh)
