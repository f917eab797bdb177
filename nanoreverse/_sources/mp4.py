"""What preflight reads of an MP4 past its first box: the kinds of track its ``moov`` holds.

An MP4 with no video track (an audio-only recording) would be paid for and then fail, so
preflight refuses it. The top-level boxes are followed by their sizes (``moov`` may come
first, as after ``faststart``, or last, after ``mdat``); only ``moov`` is read, and only
when it is of a sane size. A file whose ``moov`` cannot be found is left to the server.
"""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Callable, Iterator

#: A larger moov (hours of video) is not read: preflight then does not judge the tracks.
MOOV_LIMIT = 16 * 1024 * 1024

ReadAt = Callable[[int, int], Awaitable[bytes]]


async def find_moov(read_at: ReadAt, size: int) -> bytes | None:
    """The body of the top-level ``moov`` box, read with ``read_at(offset, length)``."""
    offset = 0
    while offset + 8 <= size:
        head = await read_at(offset, 16)
        if len(head) < 8:
            return None
        box_size, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if box_size == 1 and len(head) >= 16:
            box_size, header = struct.unpack(">Q", head[8:16])[0], 16
        elif box_size == 0:  # the last box runs to the end of the file
            box_size = size - offset
        if box_size < header:
            return None  # not a box: a broken or truncated file, the server's to judge
        if kind == b"moov":
            body = box_size - header
            return await read_at(offset + header, body) if body <= MOOV_LIMIT else None
        offset += box_size
    return None


def _children(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        header = 8
        if size == 1 and offset + 16 <= len(data):
            size, header = struct.unpack(">Q", data[offset + 8 : offset + 16])[0], 16
        if size < header or offset + size > len(data):
            return
        yield kind, data[offset + header : offset + size]
        offset += size


def track_kinds(moov: bytes) -> set[str]:
    """The handler types of the movie's tracks: ``vide``, ``soun``, ``text``…

    >>> track_kinds(b"")
    set()
    """
    kinds: set[str] = set()
    for kind, trak in _children(moov):
        if kind != b"trak":
            continue
        for inner, mdia in _children(trak):
            if inner != b"mdia":
                continue
            for box, body in _children(mdia):
                if box == b"hdlr" and len(body) >= 12:
                    kinds.add(body[8:12].decode("latin-1"))
    return kinds
