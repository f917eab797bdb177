"""Where a stream's text comes from: the HTTP body of a paid call, or an answer replayed
from the store (a call followed live is ``_store/follow.py``'s)."""

from __future__ import annotations

import codecs
import logging
from typing import Protocol

import aiohttp

logger = logging.getLogger("nanoreverse")


class Answer(Protocol):
    """Where a stream's text comes from."""

    async def read(self) -> str:
        """The next piece of text; ``""`` at the end."""

    async def close(self, *, complete: bool, text: str, error: BaseException | None) -> None:
        """Release what the answer holds; ``complete``: it was read to its end.

        Called also when the reader is being cancelled: a close that awaits must shield
        itself (a claim on the store must be settled), one that does not costs no scope."""


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
