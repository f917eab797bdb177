"""The top-level boxes of an MP4, followed as its bytes arrive: the first box's type
(``ftyp`` for a real MP4) and the duration in ``moov/mvhd``, keeping only ``moov``."""

from __future__ import annotations

import struct

#: A larger moov is skipped (the duration is then unknown), so memory stays bounded.
_MOOV_LIMIT = 16 * 1024 * 1024


class Mp4Walker:
    """Follows the top-level boxes of an MP4 as its bytes arrive; reads ``mvhd``."""

    def __init__(self) -> None:
        self._header = b""
        self._skip = 0
        self._moov: bytearray | None = None
        self._moov_left = 0
        self.first_box: bytes | None = None
        self.duration: float | None = None

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self._moov is not None:
                take = view[: self._moov_left]
                self._moov += take
                self._moov_left -= len(take)
                view = view[len(take) :]
                if self._moov_left == 0:
                    self.duration = _mvhd_duration(bytes(self._moov))
                    self._moov = None
                continue
            if self._skip:
                step = min(self._skip, len(view))
                self._skip -= step
                view = view[step:]
                continue
            need = 16 if self._header[:4] == b"\0\0\0\x01" else 8
            take = view[: need - len(self._header)]
            self._header += take
            view = view[len(take) :]
            if len(self._header) < need:
                continue
            if need == 8 and self._header[:4] == b"\0\0\0\x01":
                continue  # 64-bit size follows
            self._open_box()

    def _open_box(self) -> None:
        size, kind = struct.unpack(">I4s", self._header[:8])
        header_len = 8
        if size == 1:
            size = struct.unpack(">Q", self._header[8:16])[0]
            header_len = 16
        if self.first_box is None:
            self.first_box = kind
        self._header = b""
        body = max(size - header_len, 0) if size else 1 << 62
        if kind == b"moov" and body <= _MOOV_LIMIT:
            self._moov, self._moov_left = bytearray(), body
            if body == 0:
                self._moov = None
        else:
            self._skip = body


def _mvhd_duration(moov: bytes) -> float | None:
    offset = 0
    while offset + 8 <= len(moov):
        size, kind = struct.unpack(">I4s", moov[offset : offset + 8])
        if kind == b"mvhd":
            box = moov[offset + 8 : offset + size]
            try:
                if box[0] == 1:
                    timescale, duration = struct.unpack(">IQ", box[20:32])
                else:
                    timescale, duration = struct.unpack(">II", box[12:20])
            except (struct.error, IndexError):
                return None
            return duration / timescale if timescale else None
        if size < 8:
            return None
        offset += size
    return None
