"""aiohttp's failures turned into ours: the one place this happens (as httpx maps httpcore's).

Which error a failure becomes depends on how far the call had got, because that is what
says whether the server may have charged for it:

- the request never fully left the machine: ``APIConnectionError(request_sent=False)``,
  ``APITimeoutError`` when connecting took too long (retried: nothing was charged);
- the request was out, no answer yet: ``APIConnectionError`` / ``APITimeoutError``,
  ``request_sent=True`` (never retried: the credit may be spent);
- the answer had begun: ``StreamInterruptedError`` / ``StreamTimeoutError`` with the
  text received so far.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp

from .._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    NanoReverseError,
    StreamInterruptedError,
    StreamTimeoutError,
    error_from_response,
)
from .retry import parse_retry_after

#: What aiohttp raises for a failed connection, request or read.
FAILURES = (aiohttp.ClientError, asyncio.TimeoutError)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def request_error(
    exc: BaseException, *, url: str, sent: bool, own: Exception | None, read_timeout: float | None
) -> NanoReverseError:
    """The error for a request that failed before its answer began. ``own``: the error
    the upload raised itself (the file changed, no progress), which wins."""
    if isinstance(own, NanoReverseError):
        return own
    timed_out = isinstance(exc, asyncio.TimeoutError)
    if not sent:
        # The server never had the whole request, so it cannot have done (or charged) it.
        if timed_out:
            return APITimeoutError(
                f"timed out connecting to {url} ({_describe(exc)})", request_sent=False
            )
        return APIConnectionError(f"could not send to {url}: {_describe(exc)}", request_sent=False)
    if timed_out:
        return APITimeoutError(
            f"no answer from {url} within Timeout.read={read_timeout} s; "
            "the request was sent, so it is not retried (the credit may be spent)"
        )
    return APIConnectionError(
        f"the connection to {url} broke before the answer began ({type(exc).__name__}); "
        "the request was sent, so it is not retried"
    )


def answer_error(exc: BaseException, received: str) -> StreamInterruptedError:
    """The error for a read of the answer that failed after ``received`` text."""
    if isinstance(exc, asyncio.TimeoutError):
        return StreamTimeoutError(
            "the server fell silent in the middle of the answer (Timeout.read exceeded)",
            partial_text=received,
        )
    return StreamInterruptedError(
        f"the answer broke off after {len(received)} characters ({type(exc).__name__}); "
        "the credit may be spent, so it is not retried",
        partial_text=received,
    )


# -- an answer that is not a Markdown stream -------------------------------------------------

# An error answer is short JSON or an HTML page; never read more of it than this.
_ERROR_BODY_LIMIT = 64 * 1024


async def read_head(response: aiohttp.ClientResponse) -> bytes:
    """Up to the error-body limit of an answer, read to its end if it is shorter."""
    head = b""
    while len(head) < _ERROR_BODY_LIMIT:
        piece = await response.content.read(_ERROR_BODY_LIMIT - len(head))
        if not piece:
            break
        head += piece
    return head


def is_error_object(body: bytes) -> bool:
    """Whether a 200's JSON body is an error object (it must not pass as an analysis)."""
    try:
        payload = json.loads(body)
    except ValueError:
        return False
    return isinstance(payload, dict) and (payload.get("success") is False or "errorCode" in payload)


async def error_from(response: aiohttp.ClientResponse, *, secret: str | None) -> APIError:
    """The error an answer's status and body describe; the response is released."""
    try:
        body = await response.content.read(_ERROR_BODY_LIMIT)
    except FAILURES as exc:
        # The status already says what went wrong; the body only adds detail.
        body = f"(its body could not be read: {type(exc).__name__})".encode()
    finally:
        response.release()
    return error_from_response(
        response.status,
        body,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
        secret=secret,
    )


def describe(error: BaseException) -> str:
    """A short name for a failure, for logs and hooks: ``"429 API_KEY_RATE_LIMIT_EXCEEDED"``."""
    if isinstance(error, APIError):
        return f"{error.status} {error.code or ''}".strip()
    return type(error).__name__
