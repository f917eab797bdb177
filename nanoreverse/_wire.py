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

import aiohttp

from ._errors import (
    APIConnectionError,
    APITimeoutError,
    NanoReverseError,
    StreamInterruptedError,
    StreamTimeoutError,
)

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
