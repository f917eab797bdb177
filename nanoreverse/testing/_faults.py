"""What the emulator can be told to do wrong (Fault), and what it records of each request."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from typing import Literal

STATUS_OF_CODE = {
    "LOGIN_REQUIRED": 401,
    "API_KEY_RATE_LIMIT_EXCEEDED": 429,
    "INSUFFICIENT_CREDITS": 402,
    "INVALID_INPUT": 400,
    "INVALID_YOUTUBE_URL": 400,
    "INVALID_VIDEO_URL": 400,
    "INVALID_FORMAT": 400,
    "FILE_TOO_LARGE": 400,
    "VIDEO_DOWNLOAD_FAILED": 400,
    "VIDEO_PROCESSING_FAILED": 422,
    "AI_SERVICE_ERROR": 503,
    "SERVICE_UNAVAILABLE": 503,
    "INTERNAL_ERROR": 500,
}

BAD_GATEWAY_PAGE = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    "<body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center>"
    "</body></html>"
)

FaultKind = Literal[
    "rate_limited",
    "error",
    "bad_gateway",
    "close_before_answer",
    "drop_after",
    "stall",
    "trickle",
]


@dataclass(frozen=True)
class Fault:
    """One misbehaviour, applied to one request. Build them with the class methods.

    Attributes:
        kind: Which misbehaviour.
        code: The errorCode it answers with, if any.
        retry_after: The ``Retry-After`` header it sends, if any.
        after_bytes: Bytes of the answer sent before it breaks off or stalls.
        seconds: How long it stalls or delays.
        chars_per_second: How slowly it streams the answer.

    >>> emu.script(Fault.rate_limited(retry_after=2), Fault.drop_after(100))  # doctest: +SKIP
    """

    kind: FaultKind
    code: str | None = None
    retry_after: str | None = None
    after_bytes: int = 0
    seconds: float = 0.0
    chars_per_second: float = 0.0

    @classmethod
    def rate_limited(cls, retry_after: float | str | None = None) -> Fault:
        """429 API_KEY_RATE_LIMIT_EXCEEDED; ``retry_after`` seconds, an HTTP date, or none."""
        value = None if retry_after is None else str(retry_after)
        return cls("rate_limited", code="API_KEY_RATE_LIMIT_EXCEEDED", retry_after=value)

    @classmethod
    def rate_limited_until(cls, seconds_from_now: float) -> Fault:
        """429 with ``Retry-After`` as an HTTP date ``seconds_from_now`` ahead."""
        when = email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)
        return cls("rate_limited", code="API_KEY_RATE_LIMIT_EXCEEDED", retry_after=when)

    @classmethod
    def error(cls, code: str, retry_after: float | None = None) -> Fault:
        """The JSON error answer for ``code`` (e.g. AI_SERVICE_ERROR 503, INTERNAL_ERROR 500)."""
        if code not in STATUS_OF_CODE:
            raise ValueError(f"unknown errorCode {code!r}; known: {', '.join(STATUS_OF_CODE)}")
        value = None if retry_after is None else str(retry_after)
        return cls("error", code=code, retry_after=value)

    @classmethod
    def service_unavailable(cls, code: str = "AI_SERVICE_ERROR") -> Fault:
        """503 AI_SERVICE_ERROR (or SERVICE_UNAVAILABLE)."""
        return cls.error(code)

    @classmethod
    def internal_error(cls) -> Fault:
        """500 INTERNAL_ERROR."""
        return cls.error("INTERNAL_ERROR")

    @classmethod
    def bad_gateway(cls) -> Fault:
        """An HTML 502 page, as a proxy or CDN in front of the service sends."""
        return cls("bad_gateway")

    @classmethod
    def close_before_answer(cls) -> Fault:
        """Read the whole request, then close the connection without a word."""
        return cls("close_before_answer")

    @classmethod
    def drop_after(cls, after_bytes: int) -> Fault:
        """Answer 200, send ``after_bytes`` bytes of the answer, then cut the connection."""
        return cls("drop_after", after_bytes=after_bytes)

    @classmethod
    def stall(cls, seconds: float, after_bytes: int | None = None) -> Fault:
        """Fall silent for ``seconds``: before answering (None) or after ``after_bytes``."""
        return cls("stall", seconds=seconds, after_bytes=-1 if after_bytes is None else after_bytes)

    @classmethod
    def trickle(cls, chars_per_second: float) -> Fault:
        """Answer normally, but slowly."""
        return cls("trickle", chars_per_second=chars_per_second)


@dataclass
class RequestRecord:
    """What the emulator saw of one request, and what it did.

    Attributes:
        number: The request's number, from 1.
        started: When it arrived (monotonic clock).
        ended: When its answer ended, or None while it runs.
        authorized: Whether its key was accepted.
        user_agent: Its ``User-Agent`` header.
        content_length: Its ``Content-Length`` header, if any.
        chunked: Whether its body came chunked.
        body_bytes: Bytes of body read.
        source: Its ``videoSource`` field.
        locale: Its ``locale`` field.
        video_url: Its ``videoUrl`` field.
        file_name: Its ``videoFileName`` field.
        video_sha256: The uploaded video's sha256, when it was decoded.
        video_size: The uploaded video's size in bytes.
        video_duration: The length the answer describes, in seconds.
        fault: The fault applied to it, if any.
        status: The HTTP status it got.
        error_code: The errorCode it got, if any.
        answer: The answer it was sent (or was being sent).
        completed: Whether the whole answer was sent.
    """

    number: int
    started: float
    ended: float | None = None
    authorized: bool = False
    user_agent: str | None = None
    content_length: int | None = None
    chunked: bool = False
    body_bytes: int = 0
    source: str | None = None
    locale: str | None = None
    video_url: str | None = None
    file_name: str | None = None
    video_sha256: str | None = None
    video_size: int | None = None
    video_duration: float | None = None
    fault: Fault | None = None
    status: int | None = None
    error_code: str | None = None
    answer: str = ""
    completed: bool = False
