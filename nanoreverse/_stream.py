"""AnalysisStream: one video's answer, as an async iterator of Markdown text."""

from __future__ import annotations

import asyncio
import codecs
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType

import aiohttp

from ._errors import StreamInterruptedError, StreamTimeoutError
from ._shots import Analysis, Shot, ShotParser, parse_analysis

Opener = Callable[["AnalysisStream"], Awaitable[aiohttp.ClientResponse]]


class AnalysisStream:
    """The streamed Markdown answer for one video.

    Nothing is sent until the stream is entered or first iterated; request
    errors (preflight, HTTP errors after retries) are raised there. Chunks are
    ``str``, decoded incrementally, so a character split between two network
    reads is never broken. Leaving the ``async with`` block, ``break`` inside
    it, or ``aclose()`` releases the connection.

    >>> async with client.analyze("ad.mp4") as stream:   # doctest: +SKIP
    ...     async for chunk in stream:
    ...         print(chunk, end="")
    """

    def __init__(self, opener: Opener, *, source: object, locale: str) -> None:
        self.source = source
        self.locale = locale
        #: How many requests were made for this answer (1 when the first one succeeded).
        self.attempts = 0
        #: Seconds spent waiting for the client's rate limiter.
        self.rate_limit_wait = 0.0
        self._opener = opener
        self._response: aiohttp.ClientResponse | None = None
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._parts: list[str] = []
        self._done = False

    @property
    def received_text(self) -> str:
        """Everything received so far."""
        return "".join(self._parts)

    async def _ensure_open(self) -> aiohttp.ClientResponse:
        if self._response is None:
            self._response = await self._opener(self)
        return self._response

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
        response = self._response or await self._ensure_open()
        while True:
            data = await self._read(response)
            final = not data
            text = self._decoder.decode(data, final)
            if final:
                await self.aclose()
                if text:
                    self._parts.append(text)
                    return text
                raise StopAsyncIteration
            if text:
                self._parts.append(text)
                return text

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        try:
            return await response.content.readany()
        except asyncio.TimeoutError:
            await self._abort()
            raise StreamTimeoutError(
                "the server fell silent in the middle of the answer (Timeout.read exceeded)",
                partial_text=self.received_text,
            ) from None
        except aiohttp.ClientError as exc:
            await self._abort()
            raise StreamInterruptedError(
                f"the answer broke off after {len(self.received_text)} characters "
                f"({type(exc).__name__}); the credit may be spent, so it is not retried",
                partial_text=self.received_text,
            ) from exc

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

    async def _abort(self) -> None:
        self._done = True
        if self._response is not None:
            self._response.close()

    async def aclose(self) -> None:
        """Stop reading and release the connection (closing it if the answer is unfinished)."""
        if self._done:
            return
        self._done = True
        response = self._response
        if response is None:
            return
        if response.content.at_eof():
            response.release()
        else:
            response.close()

    def __repr__(self) -> str:
        state = "done" if self._done else "open" if self._response else "not started"
        return f"<AnalysisStream source={str(self.source)!r} locale={self.locale!r} {state}>"
