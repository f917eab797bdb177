"""A local stand-in for the Video Reverse Prompt API: a real HTTP server on 127.0.0.1.

It speaks the API as documented (auth, validation, error codes, rate limit,
credits, a streamed Markdown answer in the requested locale) and can be told
to misbehave: by a script of faults applied to the next requests in turn, or
by chance. Every request is recorded for tests to assert on.
"""

from __future__ import annotations

import collections
import contextlib
import random
import ssl
import time
from collections.abc import Iterator
from typing import Any, Literal

import anyio.from_thread
from aiohttp import web

from .._config import EMULATOR_KEY, ENDPOINT, RateLimit
from ._accounts import Account
from ._answers import seeded_answer
from ._faults import Fault, RequestRecord
from ._respond import (
    error_response,
    fault_error,
    log_request,
    rate_limited,
    stream_answer,
    work_fault,
)
from ._styles import style_for
from ._upload import BodyError, BodyScanner
from ._validate import answer_for_body

DEFAULT_KEY = EMULATOR_KEY


class Emulator:
    """The API on 127.0.0.1, for tests, demos and benchmarks.

    >>> async with Emulator(rate_limit=RateLimit(5, per=1.0)) as emu:   # doctest: +SKIP
    ...     async with nr.AsyncClient(emu.api_key, base_url=emu.base_url) as client:
    ...         print(await client.analyze("clip.mp4").text())

    Args:
        api_keys: The keys it accepts (the first is ``api_key``).
        host: The address to listen on.
        port: The port (0: any free one; see ``base_url``).
        rate_limit: The limit per key, as the real service's (None: no limit).
        retry_after: The 429's ``Retry-After``: ``"seconds"``, ``"http-date"`` or None
            (no header: the real service's behaviour is not documented).
        credits: Credits per key (None: no end); then ``INSUFFICIENT_CREDITS``.
        ttfb: Seconds before the answer starts.
        chars_per_second: How fast the answer streams (None: at once).
        chunk_bytes: The size of each network write (it splits UTF-8 characters on purpose).
        fault_rates: Faults applied by chance, each with its probability.
        seed: The seed of those chances.
        decode_uploads: False (benchmarks only) checks but does not decode uploads past
            their first 256 KiB, so the client, not this server, sets the pace.
        answer_style: The layout of its answers: ``table`` (default), ``ranges``,
            ``cards``, ``headings``, ``fenced`` or ``mixed`` (one per video, by its hash).
        max_records: How many requests ``requests`` keeps (the latest; counters stay exact).
        ssl_context: Serve https with this certificate.
    """

    def __init__(
        self,
        *,
        api_keys: tuple[str, ...] = (DEFAULT_KEY,),
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: RateLimit | None = RateLimit(100, per=3600.0),  # noqa: B008
        retry_after: Literal["seconds", "http-date"] | None = "seconds",
        credits: int | None = None,
        ttfb: float = 0.0,
        chars_per_second: float | None = None,
        chunk_bytes: int = 64,
        fault_rates: dict[Fault, float] | None = None,
        seed: int = 0,
        decode_uploads: bool = True,
        answer_style: str = "table",
        max_records: int | None = 10_000,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if not api_keys:
            raise ValueError("the emulator needs at least one API key")
        self.api_key = api_keys[0]
        self.host = host
        self.port = port
        self.rate_limit = rate_limit
        self.retry_after = retry_after
        self.ttfb = ttfb
        self.chars_per_second = chars_per_second
        self.chunk_bytes = max(1, chunk_bytes)
        self.fault_rates = dict(fault_rates or {})
        self.decode_uploads = decode_uploads
        style_for(answer_style, b"\0")  # a ValueError now, not a 500 per request
        self.answer_style = answer_style
        self.ssl_context = ssl_context
        #: The latest ``max_records`` requests (None: all); the counters stay exact.
        self.requests: list[RequestRecord] = []
        self.max_records = max_records
        self._count = 0
        self._finished: collections.Counter[int | None] = collections.Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self._keys = {key: Account(credits) for key in api_keys}
        self._script: collections.deque[Fault | None] = collections.deque()
        self._random = random.Random(seed)
        self._runner: web.AppRunner | None = None

    # -- control --------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        scheme = "http" if self.ssl_context is None else "https"
        return f"{scheme}://{self.host}:{self.port}"

    def script(self, *faults: Fault | None) -> None:
        """Apply these faults to the next requests, one each, in order (None: behave)."""
        self._script.extend(faults)

    def credits_used(self, api_key: str | None = None) -> int:
        """Credits charged to a key (the first key by default)."""
        return self._keys[api_key or self.api_key].used

    def statuses(self) -> collections.Counter[int | None]:
        """How many requests ended with each HTTP status (None: no answer, or still going)."""
        counts = collections.Counter(self._finished)
        if self.in_flight:
            counts[None] += self.in_flight
        return counts

    def stats(self) -> dict[str, Any]:
        """A JSON-ready summary, also served at ``GET /_emulator/stats``."""
        return {
            "requests": self._count,
            "statuses": {str(k): v for k, v in self.statuses().items()},
            "max_in_flight": self.max_in_flight,
            "in_flight": self.in_flight,
            "credits_used": self.credits_used(),
        }

    def answer_for(
        self, seed_source: bytes, locale: str = "en", duration: float | None = None
    ) -> str:
        """The answer the emulator gives for a video's bytes (or a link's canonical URL)."""
        return seeded_answer(seed_source, locale, duration, self.answer_style)[1]

    def reset(self) -> None:
        """Forget recorded requests, scripted faults, windows and counters."""
        self.requests.clear()
        self._count = 0
        self._finished.clear()
        self._script.clear()
        self.max_in_flight = 0
        for key in self._keys.values():
            key.window.clear()
            key.used = 0

    # -- running --------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(ENDPOINT, self._handle)
        app.router.add_get("/_emulator/stats", self._handle_stats)
        return app

    async def start(self) -> Emulator:
        self._runner = web.AppRunner(
            self.make_app(), access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self.ssl_context)
        await site.start()
        server = site._server
        assert server is not None and hasattr(server, "sockets")
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @contextlib.contextmanager
    def in_thread(self) -> Iterator[Emulator]:
        """Run in a background thread with its own event loop, for code that is not async.

        >>> with Emulator().in_thread() as emu:   # doctest: +SKIP
        ...     run_my_pipeline(base_url=emu.base_url, api_key=emu.api_key)
        """
        with (
            anyio.from_thread.start_blocking_portal() as portal,
            portal.wrap_async_context_manager(self) as emulator,
        ):
            yield emulator

    # -- the API ---------------------------------------------------------------------------

    async def _handle_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        record = RequestRecord(
            number=self._count + 1,
            started=time.monotonic(),
            user_agent=request.headers.get("User-Agent"),
            content_length=request.content_length,
            chunked="chunked" in request.headers.get("Transfer-Encoding", "").lower(),
        )
        self.requests.append(record)
        if self.max_records is not None and len(self.requests) > self.max_records:
            del self.requests[0]
        self._count += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(request, record)
        except ConnectionResetError:
            # The client went away mid-request: nothing to answer, and no traceback to print.
            return web.Response(status=499)
        finally:
            self.in_flight -= 1
            record.ended = time.monotonic()
            self._finished[record.status] += 1
            log_request(record)

    async def _answer(self, request: web.Request, record: RequestRecord) -> web.StreamResponse:
        # The order a real service works in: who is asking, may they ask now, is the
        # request sound, can they pay; only then the work, which is where faults strike.
        key = self._authorise(request)
        if key is None:
            return error_response(record, "LOGIN_REQUIRED", "Authentication required")
        record.authorized = True
        fault = self._next_fault()
        record.fault = fault
        if fault is not None and fault.kind == "rate_limited":
            return fault_error(record, fault)
        limited = rate_limited(self.rate_limit, self.retry_after, key, record)
        if limited is not None:
            return limited
        try:
            answer = await self._read_and_validate(request, record)
        except BodyError as exc:
            return error_response(record, exc.code, exc.message)
        if not key.can_pay():
            return error_response(record, "INSUFFICIENT_CREDITS", "Insufficient credits")
        failed = await work_fault(request, record, fault)
        if failed is not None:
            return failed
        key.used += 1
        return await stream_answer(
            request,
            record,
            answer,
            fault,
            ttfb=self.ttfb,
            pace=self.chars_per_second,
            chunk_bytes=self.chunk_bytes,
        )

    def _authorise(self, request: web.Request) -> Account | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self._keys.get(token.strip())

    def _next_fault(self) -> Fault | None:
        if self._script:
            return self._script.popleft()
        for fault, chance in self.fault_rates.items():
            if self._random.random() < chance:
                return fault
        return None

    async def _read_and_validate(self, request: web.Request, record: RequestRecord) -> str:
        scanner = BodyScanner(decode_all=self.decode_uploads)
        async for piece in request.content.iter_any():
            record.body_bytes += len(piece)
            scanner.feed(piece)
        return answer_for_body(scanner, record, self.answer_style)
