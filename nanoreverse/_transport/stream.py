"""AnalysisStream: one video's answer, as an async iterator of Markdown text.

The stream reads from an :class:`Answer`: the HTTP body of a paid call, a stored answer
replayed, or a call shared live with an identical one (see ``_store/through.py``). Errors of
the layer below are turned into ours here, once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from .._answer.shots import Analysis, Shot, ShotParser, parse_analysis
from .._closing import AsyncCloses
from .._config import MAX_ANSWER_CHARS
from .._errors import StreamInterruptedError
from .answers import Answer
from .calls import CallFacts, CallRecord
from .errors import FAILURES, answer_error

logger = logging.getLogger("nanoreverse")

#: Opens the answer; called once, when the stream is first entered or read.
Opener = Callable[[], Awaitable[Answer]]


def too_long(received: str, limit: int = MAX_ANSWER_CHARS) -> StreamInterruptedError:
    """The error of an answer that passed ``limit`` characters (read no further)."""
    return StreamInterruptedError(
        f"the answer passed {limit:,} characters, far beyond any real shot "
        "list; reading stopped there (the credit may be spent, so it is not retried)",
        partial_text=received,
    )


class AnalysisStream(CallFacts, AsyncCloses):
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
