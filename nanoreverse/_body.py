"""The request body: JSON whose ``videoFile`` value is base64 streamed from disk.

The body is written piece by piece: the small fields, then the base64 of the
video read in pieces whose size is a multiple of 3 (so the encoded pieces
join into one valid base64 string with no padding in the middle), then the
closing. Its exact length is known up front, so it goes out with a
``Content-Length`` header rather than chunked transfer, which some servers
and CDNs refuse for uploads. Memory per upload is one piece, not the file.
"""

from __future__ import annotations

import binascii
import json
import time
from collections.abc import Callable

from aiofiles.threadpool.binary import AsyncBufferedReader
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import Payload

from ._errors import InvalidInputError
from ._sources import Prepared, Upload

#: Bytes of video read per piece: a multiple of 3, encoding to 512 KiB of base64.
PIECE = 3 * 128 * 1024


def _json_fields(fields: dict[str, str]) -> bytes:
    """The fields as JSON members, without the braces: ``"a":"b","c":"d"``."""
    # ensure_ascii escapes quotes, backslashes, control and non-ASCII characters alike.
    return json.dumps(fields, separators=(",", ":")).encode("ascii")[1:-1]


def encoded_length(size: int) -> int:
    """Length of the base64 text of ``size`` bytes."""
    return 4 * ((size + 2) // 3)


async def _read_exactly(handle: AsyncBufferedReader, size: int) -> bytes:
    # A short read in the middle would put base64 padding inside the string.
    piece = await handle.read(size)
    while 0 < len(piece) < size:
        more = await handle.read(size - len(piece))
        if not more:
            break
        piece += more
    return piece


class RequestBody(Payload):
    """One attempt's body. Build a new one per attempt: a retry resends the whole file.

    ``sent_at`` is the monotonic time the last byte was handed to the
    connection (None until then): the server cannot have acted on a request
    whose body it never fully received, which is what makes a retry safe.
    """

    def __init__(
        self, prepared: Prepared, *, on_sent: Callable[[float], None] | None = None
    ) -> None:
        self._upload = prepared.upload
        if self._upload is None:
            self._head = b"{" + _json_fields(prepared.fields) + b"}"
            self._tail = b""
        else:
            self._head = b"{" + _json_fields(prepared.fields) + b',"videoFile":"'
            self._tail = b'"}'
        super().__init__(None, content_type="application/json")
        body_size = encoded_length(self._upload.size) if self._upload else 0
        self._size = len(self._head) + body_size + len(self._tail)
        self.sent_at: float | None = None
        self.error: Exception | None = None
        self._on_sent = on_sent

    async def write(self, writer: AbstractStreamWriter) -> None:
        await writer.write(self._head)
        if self._upload is not None:
            await self._write_video(writer, self._upload)
        await writer.write(self._tail)
        self.sent_at = time.monotonic()
        if self._on_sent is not None:
            self._on_sent(self.sent_at)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        # The length is ours and exact; aiohttp ≥ 3.12 passes it back here.
        await self.write(writer)

    async def _write_video(self, writer: AbstractStreamWriter, upload: Upload) -> None:
        if upload.data is not None:
            view = memoryview(upload.data)
            for start in range(0, upload.size, PIECE):
                await writer.write(binascii.b2a_base64(view[start : start + PIECE], newline=False))
            return
        assert upload.path is not None
        remaining = upload.size
        # Opened and closed synchronously (reads go to a thread): aiohttp may abandon this
        # coroutine at any await when an early answer (a 429) arrives mid-upload, and a
        # file opened in a thread at that moment, or closed by an await, would leak.
        with open(upload.path, "rb") as raw:  # noqa: ASYNC230 - a local open is a syscall
            handle = AsyncBufferedReader(raw, loop=None, executor=None)
            while remaining > 0:
                piece = await _read_exactly(handle, min(PIECE, remaining))
                if not piece:
                    break
                remaining -= len(piece)
                await writer.write(binascii.b2a_base64(piece, newline=False))
        if remaining:
            # The Content-Length promised more than the file now holds.
            self.error = InvalidInputError(
                f"{upload.path} shrank while it was being uploaded; try again once it is complete"
            )
            raise self.error

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("a streamed upload body cannot be decoded as text")

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        raise TypeError("a streamed upload body is not held in memory")

    def __repr__(self) -> str:
        return f"<RequestBody {self._size} bytes>"
