"""The request body: JSON whose ``videoFile`` value is base64 streamed from disk.

The body is written piece by piece: the small fields, then the base64 of the
video read in pieces whose size is a multiple of 3 (so the encoded pieces
join into one valid base64 string with no padding in the middle), then the
closing. Its exact length is known up front, so it goes out with a
``Content-Length`` header rather than chunked transfer, which some servers
and CDNs refuse for uploads.

Each upload reads into one buffer of its own, reused piece after piece (a
fresh buffer per piece costs page faults); each encoded piece is a fresh
immutable ``bytes``, because the transport may keep a reference to what it
was given until the socket has taken it. Memory per upload is about two
pieces, not the file.
"""

from __future__ import annotations

import asyncio
import binascii
import json
import os
import select
import socket
import time
from collections.abc import Callable

from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import Payload

from .._errors import APIConnectionError, APITimeoutError, InvalidInputError
from .._sources.fileio import Stamp, open_regular, read_into
from .._sources.kinds import Prepared, Upload
from .watchdog import Watchdog, retrieve_drain_error

_fast_b64encode: Callable[[bytes | memoryview], bytes] | None
try:  # SIMD base64, ten times binascii or more; the output is byte for byte the same
    from pybase64 import b64encode as _pybase64_encode

    _fast_b64encode = _pybase64_encode
except ImportError:  # pragma: no cover - a test hides pybase64 to cover the fallback
    _fast_b64encode = None


def b64encode(data: bytes | memoryview) -> bytes:
    """Standard base64 without newlines: pybase64 when installed, else the stdlib."""
    if _fast_b64encode is not None:
        return _fast_b64encode(data)
    return binascii.b2a_base64(data, newline=False)


#: Bytes of video read per piece: a multiple of 3, encoding to 256 KiB of base64 (measured:
#: 512 KiB pieces held 1.5–1.75 MiB per upload in flight once the socket lagged).
PIECE = 3 * 64 * 1024


def _json_fields(fields: dict[str, str]) -> bytes:
    """The fields as JSON members, without the braces: ``"a":"b","c":"d"``."""
    # ensure_ascii escapes quotes, backslashes, control and non-ASCII characters alike.
    return json.dumps(fields, separators=(",", ":")).encode("ascii")[1:-1]


def encoded_length(size: int) -> int:
    """Length of the base64 text of ``size`` bytes."""
    return 4 * ((size + 2) // 3)


_poller = select.poll()  # one for all: only the event loop's thread calls peer_closed


def peer_closed(writer: AbstractStreamWriter) -> bool:
    """Whether the other end has closed the connection under ``writer``: its end of stream
    (or a reset) is waiting to be read, though the event loop may not have seen it yet.

    Data waiting instead (an early answer) is not a close; that answer is read as usual.
    """
    transport = getattr(writer, "transport", None)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None:
        return False
    fd = sock.fileno()
    # Nearly always nothing is waiting: a poll says so in under a microsecond.
    _poller.register(fd, select.POLLIN)
    try:
        if not _poller.poll(0):
            return False
    finally:
        _poller.unregister(fd)
    # A socket object of our own on the same descriptor, detached again (never closed):
    # the transport's wrapper does not offer recv.
    probe = socket.socket(sock.family, sock.type, fileno=fd)
    try:
        return probe.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, InterruptedError):
        return False  # open, nothing waiting
    except OSError:
        return True  # reset by the peer
    finally:
        probe.detach()


class RequestBody(Payload):
    """One attempt's body. Build a new one per attempt: a retry resends the whole file.

    ``sent_at`` is the monotonic time the last byte was handed to the
    connection (None until then): the server cannot have acted on a request
    whose body it never fully received, which is what makes a retry safe.
    ``write_timeout`` bounds how long one piece may wait for the connection to
    take it (a server that stops reading the upload).
    """

    def __init__(
        self,
        prepared: Prepared,
        *,
        locale: str,
        on_sent: Callable[[], None] | None = None,
        write_timeout: float | None = None,
    ) -> None:
        self._upload = prepared.upload
        fields = _json_fields({**prepared.fields, "locale": locale})
        if self._upload is None:
            self._head = b"{" + fields + b"}"
            self._tail = b""
        else:
            self._head = b"{" + fields + b',"videoFile":"'
            self._tail = b'"}'
        super().__init__(None, content_type="application/json")
        body_size = encoded_length(self._upload.size) if self._upload else 0
        self._size = len(self._head) + body_size + len(self._tail)
        self.sent_at: float | None = None
        self.error: Exception | None = None
        self._on_sent = on_sent
        self._write_timeout = write_timeout
        self._watchdog = Watchdog(None)

    async def write(self, writer: AbstractStreamWriter) -> None:
        if self._upload is None:
            # A link's body is a few hundred bytes, taken by the socket at once: no timer.
            await self._send_last(writer, self._head)
        else:
            await self._write_upload(writer, self._upload)
        self.sent_at = time.monotonic()
        if self._on_sent is not None:
            self._on_sent()

    async def _write_upload(self, writer: AbstractStreamWriter, upload: Upload) -> None:
        with Watchdog(self._write_timeout) as watchdog:
            self._watchdog = watchdog
            try:
                await self._send(writer, self._head)
                await self._write_video(writer, upload)
                await self._send_last(writer, self._tail)
            except asyncio.CancelledError:
                if not watchdog.fired:
                    raise
                retrieve_drain_error(writer)
                self.error = APITimeoutError(
                    f"the server accepted no byte of the upload for {self._write_timeout} s "
                    "(Timeout.write); the request was not complete, so nothing was charged",
                    request_sent=False,
                )
                raise self.error from None

    async def _send_last(self, writer: AbstractStreamWriter, data: bytes) -> None:
        """The body's last bytes, unless the server has already closed the connection.

        A server closes an idle kept-alive connection without a word; if its close reached
        us before our last byte left, it can never have had the whole request, so the
        request is abandoned as not sent (and retried) instead of being counted as paid.
        """
        if peer_closed(writer):
            self.error = APIConnectionError(
                "the server had closed the connection (an idle keep-alive) before the "
                "request was complete; nothing was charged",
                request_sent=False,
            )
            raise self.error
        await self._send(writer, data)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        # The length is ours and exact; aiohttp ≥ 3.12 passes it back here.
        await self.write(writer)

    async def _send(self, writer: AbstractStreamWriter, data: bytes) -> None:
        await writer.write(data)
        self._watchdog.progressed()

    async def _write_video(self, writer: AbstractStreamWriter, upload: Upload) -> None:
        if upload.data is not None:
            view = memoryview(upload.data)
            for start in range(0, upload.size, PIECE):
                await self._send(writer, b64encode(view[start : start + PIECE]))
            return
        assert upload.path is not None and upload.stamp is not None
        # Opened and closed synchronously (a non-blocking open is one syscall): aiohttp may
        # abandon this coroutine at any await when an early answer (a 429) arrives mid-upload,
        # and a file opened in a thread at that moment, or closed by an await, would leak.
        fd, info = self._open(upload)
        try:
            await self._write_file(writer, upload, fd, info)
        finally:
            os.close(fd)

    def _open(self, upload: Upload) -> tuple[int, os.stat_result]:
        assert upload.path is not None and upload.stamp is not None
        try:
            fd, info = open_regular(upload.path)
        except OSError as exc:
            raise self._changed(upload, f"could not be opened again ({exc.strerror})") from None
        stamp = Stamp.of(info)
        if (stamp.device, stamp.inode) != (upload.stamp.device, upload.stamp.inode):
            os.close(fd)
            raise self._changed(upload, "was replaced by another file")
        return fd, info

    async def _write_file(
        self, writer: AbstractStreamWriter, upload: Upload, fd: int, info: os.stat_result
    ) -> None:
        view = memoryview(bytearray(min(PIECE, upload.size)))
        offset = 0
        while offset < upload.size:
            piece = view[: min(PIECE, upload.size - offset)]
            got = await read_into(fd, piece, offset)
            if got < len(piece):
                # The Content-Length promised more than the file now holds.
                raise self._changed(upload, "shrank")
            offset += got
            if offset == upload.size and Stamp.of(os.fstat(fd)) != upload.stamp:
                # Checked before the last piece leaves: the server never gets a whole
                # request, so it cannot charge for a video that is not what was checked.
                raise self._changed(upload, "changed (it grew or was rewritten)")
            await self._send(writer, b64encode(piece))

    def _changed(self, upload: Upload, how: str) -> InvalidInputError:
        self.error = InvalidInputError(
            f"{upload.path} {how} while it was being uploaded; the upload was stopped before "
            "its end, so nothing was charged. Try again once the file is complete"
        )
        return self.error

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("a streamed upload body cannot be decoded as text")

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        raise TypeError("a streamed upload body is not held in memory")

    def __repr__(self) -> str:
        return f"<RequestBody {self._size} bytes>"
