"""The layer below's failures turned into ours: the one place this happens (as httpx maps
httpcore's): an answer's status and errorCode become the exception tree's class, and
aiohttp's failures become ours.

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
import re

import aiohttp

from .._errors import (
    ERROR_CODES,
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    InsufficientCreditsError,
    InternalServerError,
    InvalidRequestError,
    NanoReverseError,
    RateLimitError,
    ServiceUnavailableError,
    StreamInterruptedError,
    StreamTimeoutError,
    VideoProcessingError,
)
from .retry import parse_retry_after

# -- the server's answer: its status and errorCode become the exception tree's class ---------

_BY_STATUS: dict[int, type[APIError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    429: RateLimitError,
    422: VideoProcessingError,
    503: ServiceUnavailableError,
}

# An HTML error page can be large; the message keeps only its start.
_BODY_EXCERPT = 200


def _class_for(code: str | None, status: int) -> type[APIError]:
    if code in ERROR_CODES:
        return ERROR_CODES[code]
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500 or 200 <= status < 300:
        return InternalServerError  # a 2xx that carries an error object is the server's fault
    if 400 <= status < 500:
        return InvalidRequestError
    return APIError


def _echoes(char: str) -> str:
    """Every way a server may have written ``char`` back: as is, JSON-escaped (any case of
    hex), URL-encoded, as an HTML entity, or its UTF-8 bytes read as Latin-1 (mojibake)."""
    code = ord(char)
    forms = [re.escape(char), rf"\\u0*{code:x}", rf"&#0*{code};", rf"&#x0*{code:x};"]
    data = char.encode("utf-8", "surrogatepass")
    forms.append("".join(rf"%{byte:02x}" for byte in data))
    if code > 127:
        forms.append(re.escape(data.decode("latin-1")))
    forms += {"/": [r"\\/"], " ": [r"\+"], "&": ["&amp;"], "<": ["&lt;"], ">": ["&gt;"],
              '"': ["&quot;"], "'": ["&apos;"]}.get(char, [])  # fmt: skip
    return "(?:" + "|".join(forms) + ")"


def blank_secret(text: str, secret: str | None) -> str:
    """``text`` with the API key replaced by ``***``, in every form a server may echo it:
    as sent, JSON-escaped (``\\/``, ``\\u00e9`` or ``\\u002F``), URL-encoded, as HTML
    entities, as mojibake, or any mix of these.

    A key too short to be a real one is only blanked as a whole word, so that it never
    mangles ordinary text (a key "e" must not turn "success" into "succ***ss").

    >>> blank_secret('{"error": "bad key sk-a\\/b"}', "sk-a/b")
    '{"error": "bad key ***"}'
    >>> blank_secret("key=sk-a%2Fb&x=1", "sk-a/b")
    'key=***&x=1'
    """
    if not secret:
        return text
    pattern = _any_case_escapes("".join(_echoes(char) for char in secret))
    if len(secret) < 8:
        pattern = rf"(?<![\w-]){pattern}(?![\w-])"
    return re.sub(pattern, "***", text)


def _any_case_escapes(pattern: str) -> str:
    """Hex digits in escapes may come in either case (the key's own letters may not): each
    hex letter of an escape is spelt out in both cases."""
    return re.sub(
        r"(\\\\u0\*|&#x0\*|%)([0-9a-f]+)",
        lambda m: (
            m.group(1) + "".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in m.group(2))
        ),
        pattern,
    )


def error_from_response(
    status: int,
    body: bytes,
    *,
    retry_after: float | None = None,
    secret: str | None = None,
) -> APIError:
    """Turn a non-200 answer into the matching exception.

    ``secret`` (the API key) is blanked out of any text the server echoed back.
    """
    text = body.decode("utf-8", "replace")
    code: str | None = None
    message: str | None = None
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        raw_code, raw_message = payload.get("errorCode"), payload.get("error")
        code = raw_code if isinstance(raw_code, str) else None
        message = raw_message if isinstance(raw_message, str) else None
    # Blanked after parsing, in every form the server may have echoed it: a replace on
    # the raw text missed "\/" and "\u00e9" escapes, and could break the JSON it parsed.
    text = blank_secret(text, secret)
    message = blank_secret(message, secret) if message is not None else None
    if message is None:
        excerpt = " ".join(text[:_BODY_EXCERPT].split())
        message = f"unexpected answer: {excerpt!r}" if excerpt else "empty answer"
    cls = _class_for(code, status)
    return cls(
        message, code=code, status=status, body=text[:_BODY_EXCERPT], retry_after=retry_after
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
