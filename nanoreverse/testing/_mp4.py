"""The top-level boxes of an MP4, followed as its bytes arrive: the first box's type
(``ftyp`` for a real MP4) and the duration, keeping only ``moov`` and ``moof`` boxes.

The duration is ``moov/mvhd``'s; a fragmented MP4 (what OBS and many recorders write,
FFmpeg's ``frag_keyframe+empty_moov``) leaves it at zero, and its length is
``mvex/mehd``'s when present, else the fragments': each ``moof``'s start (``tfdt``)
plus its samples' durations (``trun``, or the defaults of ``tfhd`` and ``trex``), in
each track's own timescale (``mdhd``)."""

from __future__ import annotations

import contextlib
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
        self._movie: float | None = None
        self._box = b""
        self._tracks = _Tracks()

    @property
    def duration(self) -> float | None:
        """Seconds: the movie header's, else the fragments' (None: unknown)."""
        return self._movie or self._tracks.length()

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self._moov is not None:
                take = view[: self._moov_left]
                self._moov += take
                self._moov_left -= len(take)
                view = view[len(take) :]
                if self._moov_left == 0:
                    self._read_box(self._box, bytes(self._moov))
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
        if kind in (b"moov", b"moof") and body <= _MOOV_LIMIT:
            self._box, self._moov, self._moov_left = kind, bytearray(), body
            if body == 0:
                self._moov = None
        else:
            self._skip = body

    def _read_box(self, kind: bytes, body: bytes) -> None:
        if kind == b"moov":
            self._movie = _mvhd_duration(body) or _mehd_duration(body)
            self._tracks.read_moov(body)
        else:
            self._tracks.read_moof(body)


def _children(data: bytes) -> list[tuple[bytes, bytes]]:
    found, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size < 8 or offset + size > len(data):
            break
        found.append((kind, data[offset + 8 : offset + size]))
        offset += size
    return found


def _child(data: bytes, *path: bytes) -> bytes | None:
    for kind in path:
        data = next((body for name, body in _children(data) if name == kind), b"")
        if not data:
            return None
    return data


def _mehd_duration(moov: bytes) -> float | None:
    """A fragmented movie's length, when its ``mvex`` says (in the movie's timescale)."""
    mvhd, mehd = _child(moov, b"mvhd"), _child(moov, b"mvex", b"mehd")
    if not mvhd or not mehd:
        return None
    try:
        timescale = struct.unpack(">I", mvhd[20:24] if mvhd[0] == 1 else mvhd[12:16])[0]
        length = struct.unpack(">Q", mehd[4:12])[0] if mehd[0] == 1 else _u32(mehd, 4)
    except (struct.error, IndexError):
        return None
    return length / timescale if timescale and length else None


def _u32(data: bytes, offset: int) -> int:
    return int(struct.unpack(">I", data[offset : offset + 4])[0])


class _Tracks:
    """Each track's timescale and default sample duration, and where its fragments end."""

    def __init__(self) -> None:
        self.timescale: dict[int, int] = {}
        self.default: dict[int, int] = {}
        self.end: dict[int, int] = {}

    def read_moov(self, moov: bytes) -> None:
        for kind, trak in _children(moov):
            tkhd, mdhd = _child(trak, b"tkhd"), _child(trak, b"mdia", b"mdhd")
            if kind != b"trak" or not tkhd or not mdhd:
                continue
            with contextlib.suppress(struct.error, IndexError):
                track = _u32(tkhd, 20 if tkhd[0] == 1 else 12)
                self.timescale[track] = _u32(mdhd, 20 if mdhd[0] == 1 else 12)
        for kind, trex in _children(_child(moov, b"mvex") or b""):
            if kind == b"trex" and len(trex) >= 16:
                self.default[_u32(trex, 4)] = _u32(trex, 12)

    def read_moof(self, moof: bytes) -> None:
        for kind, traf in _children(moof):
            if kind == b"traf":
                with contextlib.suppress(struct.error, IndexError):
                    self._read_traf(traf)

    def _read_traf(self, traf: bytes) -> None:
        tfhd = _child(traf, b"tfhd") or b""
        flags, track = _u32(tfhd, 0) & 0xFFFFFF, _u32(tfhd, 4)
        offset = 8 + (8 if flags & 0x01 else 0) + (4 if flags & 0x02 else 0)
        default = _u32(tfhd, offset) if flags & 0x08 else self.default.get(track, 0)
        tfdt = _child(traf, b"tfdt")
        start = self.end.get(track, 0)
        if tfdt:
            start = struct.unpack(">Q", tfdt[4:12])[0] if tfdt[0] == 1 else _u32(tfdt, 4)
        total = 0
        for kind, trun in _children(traf):
            if kind == b"trun":
                total += _trun_duration(trun, default)
        self.end[track] = max(self.end.get(track, 0), start + total)

    def length(self) -> float | None:
        seconds = [
            end / self.timescale[track]
            for track, end in self.end.items()
            if self.timescale.get(track)
        ]
        return max(seconds) if seconds and max(seconds) > 0 else None


def _trun_duration(trun: bytes, default: int) -> int:
    flags, count = _u32(trun, 0) & 0xFFFFFF, _u32(trun, 4)
    if not flags & 0x100:
        return count * default
    offset = 8 + (4 if flags & 0x01 else 0) + (4 if flags & 0x04 else 0)
    step = 4 * sum(1 for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit)
    return sum(_u32(trun, offset + n * step) for n in range(count))


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
