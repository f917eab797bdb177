"""AnalysisStream: one video's answer, as an async iterator of Markdown text.

The stream reads from an :class:`Answer`: the HTTP body of a paid call, a stored answer
replayed, or a call shared live with an identical one (see ``_store/through.py``). Errors of
the layer below are turned into ours here, once.
"""

from __future__ import annotations

import codecs
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

import aiohttp

from .._answer.shots import Analysis, Shot, ShotParser, parse_analysis
from .._config import MAX_ANSWER_CHARS
from .._errors import NanoReverseError, StreamInterruptedError
from .._keys import StoreKey
from .._sources.kinds import Prepared
from .errors import FAILURES, answer_error

logger = logging.getLogger("nanoreverse")


@dataclass
class CallHooks:
    """What a batch wants to hear about one call while it is being opened."""

    on_attempt: Callable[[int], None] | None = None
    on_retry: Callable[[NanoReverseError, float], None] | None = None
    on_rate_wait: Callable[[float], None] | None = None
    #: A request is about to go out (the rate limiter let it through).
    on_send: Callable[[], None] | None = None
    #: The batch's contents whose call failed: a later path of one of them is given the
    #: same error and sends nothing (one content, one call per batch).
    failed: dict[StoreKey, NanoReverseError] | None = None


NO_HOOKS = CallHooks()


@dataclass
class CallRecord:
    """How one call went, as it goes. The client creates one per call; the parts of the
    call write their own fields, each one field: the retry loop ``attempts`` (``call.py``),
    the request ``rate_limit_wait`` (``attempt.py``), the store ``key``, ``cached`` and
    ``store_error`` (``_store/through.py``). The stream only reads it (``stream.attempts``
    …), and so does a batch."""

    #: Requests made for this answer (1 when the first one succeeded; 0 when none was).
    attempts: int = 0
    #: Seconds spent waiting for the client's rate limiter.
    rate_limit_wait: float = 0.0
    #: No request was made: the answer was replayed from the store, or followed live.
    cached: bool = False
    #: What names the answer in the client's store (None: no store).
    key: StoreKey | None = None
    #: The store could not keep this call's paid answer (a later call may pay again).
    store_error: NanoReverseError | None = None


class Answer(Protocol):
    """Where a stream's text comes from."""

    async def read(self) -> str:
        """The next piece of text; ``""`` at the end."""

    async def close(self, *, complete: bool, text: str, error: BaseException | None) -> None:
        """Release what the answer holds; ``complete``: it was read to its end.

        Called also when the reader is being cancelled: a close that awaits must shield
        itself (a claim on the store must be settled), one that does not costs no scope."""


@dataclass(frozen=True)
class Call:
    """One call as the client opens it: what to send, and where it records how it went."""

    source: object
    locale: str
    prepared: Prepared
    record: CallRecord


#: Opens the answer; called once, when the stream is first entered or read.
Opener = Callable[[], Awaitable[Answer]]


class HTTPAnswer:
    """The streamed body of a 200 answer, decoded incrementally as UTF-8."""

    def __init__(self, response: aiohttp.ClientResponse, *, prefix: bytes = b"") -> None:
        self._response = response
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._prefix = prefix  # bytes already read to look at the answer
        self._eof = False

    async def read(self) -> str:
        while not self._eof:
            data, self._prefix = self._prefix or await self._response.content.readany(), b""
            if not data:
                self._eof = True
                return str(self._decoder.decode(b"", True))
            text = str(self._decoder.decode(data))
            if text:  # a piece may hold only part of a character
                return text
        return ""

    async def close(self, *, complete: bool, text: str, error: BaseException | None) -> None:
        if self._response.content.at_eof():
            self._response.release()
            return
        self._response.close()
        if error is None:  # the reader stopped early: say what was dropped, never silently
            logger.info(
                "an answer was left unread after %d characters and dropped (a store would "
                "have read it to its end and kept it)",
                len(text),
            )


class ReplayedAnswer:
    """An answer read back from the store: the whole text at once, no request made."""

    def __init__(self, markdown: str) -> None:
        self._markdown: str | None = markdown

    async def read(self) -> str:
        text, self._markdown = self._markdown or "", None
        return text

    async def close(self, *, complete: bool, text: str, error: BaseException | None) -> None:
        self._markdown = None


def too_long(received: str, limit: int = MAX_ANSWER_CHARS) -> StreamInterruptedError:
    """The error of an answer that passed ``limit`` characters (read no further)."""
    return StreamInterruptedError(
        f"the answer passed {limit:,} characters, far beyond any real shot "
        "list; reading stopped there (the credit may be spent, so it is not retried)",
        partial_text=received,
    )


class AnalysisStream:
    """The streamed Markdown answer for one video.

    Nothing is sent until the stream is entered or first iterated; request
    errors (preflight, HTTP errors after retries) are raised there. Chunks are
    ``str``, decoded incrementally, so a character split between two network
    reads is never broken. Leaving the ``async with`` block, ``break`` inside
    it, or ``aclose()`` releases the connection. ``cached`` is True when no request
    was made for this stream (then ``attempts`` is 0): the answer was replayed from
    the client's store, or followed live from an identical call already in flight.

    >>> async with client.analyze("ad.mp4") as stream:   # doctest: +SKIP
    ...     async for chunk in stream:
    ...         print(chunk, end="")
    """

    def __init__(
        self,
        opener: Opener,
        *,
        source: object,
        locale: str,
        record: CallRecord | None = None,
        max_chars: int = MAX_ANSWER_CHARS,
    ) -> None:
        self.source = source
        self.locale = locale
        self._record = CallRecord() if record is None else record
        self._opener = opener
        self._answer: Answer | None = None
        self._parts: list[str] = []
        self._chars = 0
        self._max_chars = max_chars
        self._done = False

    @property
    def attempts(self) -> int:
        """How many requests were made for this answer (1 when the first one succeeded)."""
        return self._record.attempts

    @property
    def rate_limit_wait(self) -> float:
        """Seconds spent waiting for the client's rate limiter."""
        return self._record.rate_limit_wait

    @property
    def cached(self) -> bool:
        """True when no request was made for it: replayed from the store, or shared."""
        return self._record.cached

    @property
    def key(self) -> StoreKey | None:
        """What names this answer in the client's store (None without a store, or before
        the call is opened): equal keys are one paid answer.

        >>> stream.key.identity                                  # doctest: +SKIP
        'youtube:W-15-UmGP5s'
        """
        return self._record.key

    @property
    def store_error(self) -> NanoReverseError | None:
        """Why the store could not keep this paid answer (disk full, an old schema, Redis
        gone), else None. The answer itself is whole: keep it elsewhere, or a later call
        pays for it again.

        >>> if stream.store_error:                                # doctest: +SKIP
        ...     Path("unstored.md").write_text(stream.received_text)
        """
        return self._record.store_error

    @property
    def received_text(self) -> str:
        """Everything received so far."""
        return "".join(self._parts)

    async def _ensure_open(self) -> Answer:
        if self._answer is None:
            self._answer = await self._opener()
        return self._answer

    async def __aenter__(self) -> AnalysisStream:
        await self._ensure_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> AnalysisStream:
        return self

    async def __anext__(self) -> str:
        if self._done:
            raise StopAsyncIteration
        answer = self._answer or await self._ensure_open()
        text = await self._read(answer)
        if not text:
            if not self._parts:  # a 200 with no text: no analysis, and perhaps paid
                error = StreamInterruptedError(
                    "the service answered with no text at all (the request was whole, so "
                    "the credit may be spent; it is not retried)",
                    partial_text="",
                )
                await self._close(complete=False, error=error)
                raise error
            await self._close(complete=True)
            raise StopAsyncIteration
        self._chars += len(text)
        if self._chars > self._max_chars:
            await self._too_long()
        self._parts.append(text)
        return text

    async def _too_long(self) -> None:
        error = too_long(self.received_text, self._max_chars)
        await self._close(complete=False, error=error)
        raise error

    async def _read(self, answer: Answer) -> str:
        try:
            return await answer.read()
        except FAILURES as exc:
            error = answer_error(exc, self.received_text)
            await self._close(complete=False, error=error)
            raise error from exc
        except StreamInterruptedError as error:  # a shared call's, that broke off
            await self._close(complete=False, error=error)
            raise

    async def text(self) -> str:
        """Read the answer to its end and return the whole Markdown.

        >>> markdown = await client.analyze(nr.YouTube(url)).text()   # doctest: +SKIP
        """
        async with self:
            async for _ in self:
                pass
        return self.received_text

    async def shots(self) -> AsyncIterator[Shot]:
        """Each shot as soon as its table row is complete, while the answer still streams.

        >>> async with client.analyze("ad.mp4") as stream:     # doctest: +SKIP
        ...     async for shot in stream.shots():
        ...         print(shot.number, shot.prompt())
        """
        parser = ShotParser()
        for shot in parser.feed(self.received_text):
            yield shot
        async for chunk in self:
            for shot in parser.feed(chunk):
                yield shot
        for shot in parser.close():
            yield shot

    async def analysis(self) -> Analysis:
        """Read to the end and return the parsed answer (shots, summary, Markdown)."""
        return parse_analysis(await self.text())

    async def _close(self, *, complete: bool, error: BaseException | None = None) -> None:
        if self._done:
            return
        self._done = True
        if self._answer is not None:
            await self._answer.close(complete=complete, text=self.received_text, error=error)

    async def aclose(self) -> None:
        """Stop reading and release the connection (closing it if the answer is unfinished)."""
        await self._close(complete=False)

    def __repr__(self) -> str:
        state = "done" if self._done else "open" if self._answer else "not started"
        return f"<AnalysisStream source={str(self.source)!r} locale={self.locale!r} {state}>"
