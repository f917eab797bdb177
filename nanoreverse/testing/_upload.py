"""Reading a request body as it streams in, the way a careful server would.

The body is one JSON object whose ``videoFile`` value may be 40 MB of base64.
:class:`BodyScanner` walks the JSON a chunk at a time: small fields are kept,
the video's base64 is decoded on the fly into a sha256, a byte count and an
MP4 box walker (which keeps only the ``moov`` box, to read the duration). No
copy of the video is kept.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import re
import sys

from .._config import MAX_UPLOAD_BYTES
from ._mp4 import Mp4Walker

_SMALL_LIMIT = 64 * 1024
_DATA_URL = re.compile(rb"^data:[\w.+/-]*(;[\w=.+-]+)*;base64,", re.IGNORECASE)


def _special(data: bytes, start: int) -> int:
    """Index of the next quote or backslash (or -1): two memchr scans beat a regex 50-fold."""
    quote = data.find(b'"', start)
    backslash = data.find(b"\\", start, quote if quote >= 0 else len(data))
    return backslash if backslash >= 0 else quote


class BodyError(Exception):
    """The body cannot be accepted; ``code`` is the API's errorCode."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _b64decode(data: bytes) -> bytes:
    if sys.version_info >= (3, 11):
        return binascii.a2b_base64(data, strict_mode=True)
    import base64

    return base64.b64decode(data, validate=True)  # pragma: no cover - Python 3.10


_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# With decode_all=False, only this much of the video is decoded (for its MP4 boxes).
_HEAD_DECODE = 256 * 1024


class VideoSink:
    """The decoded video: sha256, size and MP4 facts, fed base64 text piece by piece.

    ``decode_all=False`` is for benchmarks that must measure the client, not this
    decoder: past the first 256 KiB the base64 is only checked (alphabet, padding)
    and counted, not decoded or hashed, so ``sha256`` is None and a ``moov`` box at
    the end of the file goes unseen.
    """

    def __init__(self, *, decode_all: bool = True) -> None:
        self.decode_all = decode_all
        self.sha256: hashlib._Hash | None = hashlib.sha256()
        self.size = 0
        self.mp4 = Mp4Walker()
        self._carry = b""
        self._prefix_done = False
        self._head = b""
        self._padded = False

    def write(self, text: bytes) -> None:
        if not self._prefix_done:
            self._head += text
            text = self._strip_prefix(final=False)
            if not self._prefix_done:
                return
        data = self._carry + text
        cut = len(data) - len(data) % 4
        self._carry = data[cut:]
        if cut:
            self._decoded(data[:cut])

    def _strip_prefix(self, *, final: bool) -> bytes:
        """Plain base64, or a data URL ``data:video/mp4;base64,...``: wait until it is clear."""
        head = self._head
        if head.startswith(b"data:"):
            comma = head.find(b",")
            if comma < 0:
                if final or len(head) > 256:
                    raise BodyError("INVALID_FORMAT", "videoFile is a malformed data URL")
                return b""
            if not _DATA_URL.match(head[: comma + 1]):
                raise BodyError("INVALID_FORMAT", "videoFile's data URL is not base64")
            head = head[comma + 1 :]
        elif len(head) < 5 and b"data:".startswith(head) and not final:
            return b""
        self._head, self._prefix_done = b"", True
        return head

    def _decoded(self, text: bytes) -> None:
        if not self.decode_all and self.size >= _HEAD_DECODE:
            self._counted(text)
            return
        try:
            raw = _b64decode(text)
        except (binascii.Error, ValueError):
            raise BodyError("INVALID_FORMAT", "videoFile is not valid base64") from None
        self.size += len(raw)
        if self.size > MAX_UPLOAD_BYTES:
            raise BodyError("FILE_TOO_LARGE", "the video is larger than 30 MB (31,457,280 bytes)")
        if self.sha256 is not None:
            self.sha256.update(raw)
        self.mp4.feed(raw)

    def _counted(self, text: bytes) -> None:
        self.sha256 = None
        body = text.rstrip(b"=")
        padding = len(text) - len(body)
        if body.translate(None, _BASE64_ALPHABET) or padding > 2 or self._padded:
            raise BodyError("INVALID_FORMAT", "videoFile is not valid base64")
        self._padded = padding > 0
        self.size += len(text) // 4 * 3 - padding
        if self.size > MAX_UPLOAD_BYTES:
            raise BodyError("FILE_TOO_LARGE", "the video is larger than 30 MB (31,457,280 bytes)")

    def finish(self) -> None:
        if not self._prefix_done:
            rest = self._strip_prefix(final=True)
            self._prefix_done = True
            self.write(rest)
        if self._carry:
            raise BodyError("INVALID_FORMAT", "videoFile is not valid base64 (truncated)")
        if self.size == 0:
            raise BodyError("INVALID_FORMAT", "videoFile is empty")
        if self.mp4.first_box != b"ftyp":
            raise BodyError("INVALID_FORMAT", "the uploaded file is not a valid MP4 video")


class BodyScanner:
    """A streaming reader of one flat JSON object; the ``videoFile`` value goes to a VideoSink."""

    def __init__(self, streamed_key: str = "videoFile", *, decode_all: bool = True) -> None:
        self.decode_all = decode_all
        self.fields: dict[str, object] = {}
        self.video: VideoSink | None = None
        self._streamed_key = streamed_key
        self._state = "start"
        self._raw = bytearray()
        self._key: str | None = None
        self._escape = b""

    def feed(self, data: bytes) -> None:
        index = 0
        while index < len(data):
            state = self._state
            if state in ("key", "value_string"):
                index = self._small_string(data, index)
            elif state == "video":
                index = self._video_string(data, index)
            elif state == "scalar":
                index = self._scalar(data, index)
            else:
                index = self._structure(data, index)

    def finish(self) -> dict[str, object]:
        if self._state == "scalar":
            self._end_scalar()
        if self._state != "done":
            raise BodyError("INVALID_INPUT", "the request body is not a complete JSON object")
        if self.video is not None:
            self.video.finish()
        return self.fields

    def _fail(self, what: str) -> None:
        raise BodyError("INVALID_INPUT", f"the request body is not valid JSON ({what})")

    def _structure(self, data: bytes, index: int) -> int:
        char = data[index : index + 1]
        if char in b" \t\r\n":
            return index + 1
        state = self._state
        if state == "start" and char == b"{":
            self._state = "key_or_end"
        elif state in ("key_or_end", "key_next") and char == b'"':
            self._state, self._raw = "key", bytearray()
        elif state == "key_or_end" and char == b"}":
            self._state = "done"
        elif state == "colon" and char == b":":
            self._state = "value"
        elif state == "value" and char == b'"':
            if self._key == self._streamed_key:
                self.video = VideoSink(decode_all=self.decode_all)
                self._state = "video"
            else:
                self._state, self._raw = "value_string", bytearray()
        elif state == "value" and char in b"-0123456789tfn":
            self._state, self._raw = "scalar", bytearray(char)
        elif state == "comma_or_end" and char == b",":
            self._state = "key_next"
        elif state == "comma_or_end" and char == b"}":
            self._state = "done"
        else:
            self._fail(f"unexpected {char!r} in state {state}")
        return index + 1

    def _small_string(self, data: bytes, index: int) -> int:
        while index < len(data):
            if self._escape:
                self._raw += data[index : index + 1]
                self._escape = b""
                index += 1
                continue
            end = _special(data, index)
            self._raw += data[index : end if end >= 0 else len(data)]
            if len(self._raw) > _SMALL_LIMIT:
                self._fail("a field is too long")
            if end < 0:
                return len(data)
            if data[end : end + 1] == b"\\":
                self._raw += b"\\"
                self._escape = b"\\"
                index = end + 1
                continue
            self._close_small_string()
            return end + 1
        return index

    def _close_small_string(self) -> None:
        try:
            value = json.loads(b'"' + bytes(self._raw) + b'"')
        except ValueError:
            self._fail("a string is malformed")
        if self._state == "key":
            self._key, self._state = value, "colon"
        else:
            self._store(value)

    def _video_string(self, data: bytes, index: int) -> int:
        assert self.video is not None
        while index < len(data):
            if self._escape:
                char = data[index : index + 1]
                self._escape = b""
                if char == b"/":
                    self.video.write(b"/")
                elif char not in b"nrt":  # wrapped base64: line breaks are ignored
                    raise BodyError("INVALID_FORMAT", "videoFile is not valid base64")
                index += 1
                continue
            end = _special(data, index)
            if end != index:
                self.video.write(data[index : end if end >= 0 else len(data)])
            if end < 0:
                return len(data)
            if data[end : end + 1] == b"\\":
                self._escape = b"\\"
                index = end + 1
                continue
            self._store(None)
            return end + 1
        return index

    def _scalar(self, data: bytes, index: int) -> int:
        while index < len(data):
            char = data[index : index + 1]
            if char in b",} \t\r\n":
                self._end_scalar()
                return index
            self._raw += char
            if len(self._raw) > 64:
                self._fail("a value is too long")
            index += 1
        return index

    def _end_scalar(self) -> None:
        try:
            value = json.loads(bytes(self._raw))
        except ValueError:
            self._fail("a value is malformed")
        self._store(value)

    def _store(self, value: object) -> None:
        assert self._key is not None
        if self._key in self.fields:
            self._fail(f"field {self._key!r} appears twice")
        self.fields[self._key] = value if self._key != self._streamed_key else "<streamed>"
        self._state = "comma_or_end"
