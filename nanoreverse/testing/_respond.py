"""The emulator's answers on the wire: an error object, or the Markdown streamed, paced,
and cut or stalled where a fault says."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import time

from aiohttp import web

from .._config import RateLimit
from ._accounts import Account
from ._faults import BAD_GATEWAY_PAGE, STATUS_OF_CODE, Fault, RequestRecord

logger = logging.getLogger("nanoreverse.emulator")


def error_response(
    record: RequestRecord, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """The API's error answer: ``{"success": false, "error", "errorCode"}`` and its status."""
    record.status, record.error_code = STATUS_OF_CODE[code], code
    return web.json_response(
        {"success": False, "error": message, "errorCode": code},
        status=STATUS_OF_CODE[code],
        headers=headers,
    )


def cut(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """Drop the connection on the floor; aiohttp then has nothing left to write to."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    return response


async def stream_answer(
    request: web.Request,
    record: RequestRecord,
    answer: str,
    fault: Fault | None,
    *,
    ttfb: float,
    pace: float | None,
    chunk_bytes: int,
) -> web.StreamResponse:
    """Send the answer as the real service does: chunked, ``chunk_bytes`` per write (which
    splits UTF-8 characters on purpose), ``pace`` characters a second; a fault may stall
    or cut it at an exact byte."""
    if ttfb:
        await asyncio.sleep(ttfb)
    response = web.StreamResponse(status=200, headers={"Content-Type": "text/plain; charset=utf-8"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    record.status = 200
    data = answer.encode("utf-8")
    if fault is not None and fault.kind == "trickle":
        pace = fault.chars_per_second
    sent = 0
    while sent < len(data):
        piece = data[sent : sent + chunk_bytes]
        if fault is not None and fault.kind in ("drop_after", "stall"):
            piece = _before_fault_point(piece, sent, fault)
        if fault is not None and fault.kind == "drop_after" and sent >= fault.after_bytes:
            return cut(request, response)
        if fault is not None and fault.kind == "stall" and sent == fault.after_bytes:
            await asyncio.sleep(fault.seconds)
        try:
            await response.write(piece)
        except ConnectionResetError:
            return response  # the client went away mid-answer: nothing more to send
        sent += len(piece)
        record.answer = data[:sent].decode("utf-8", "replace")
        if pace:
            await asyncio.sleep(len(piece) / pace)
    await response.write_eof()
    record.completed = True
    return response


def _before_fault_point(piece: bytes, sent: int, fault: Fault) -> bytes:
    # Stop a write exactly at the fault's byte so the client sees precisely that much.
    if 0 <= sent < fault.after_bytes < sent + len(piece):
        return piece[: fault.after_bytes - sent]
    return piece


def fault_error(record: RequestRecord, fault: Fault) -> web.Response:
    """The error answer a scripted fault names (with its ``Retry-After``, if any)."""
    assert fault.code is not None
    headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
    return error_response(record, fault.code, f"emulated {fault.code}", headers)


async def work_fault(
    request: web.Request, record: RequestRecord, fault: Fault | None
) -> web.StreamResponse | None:
    """Faults that strike once the whole request is in (so nothing is charged)."""
    if fault is None:
        return None
    if fault.kind == "error":
        return fault_error(record, fault)
    if fault.kind == "bad_gateway":
        record.status = 502
        return web.Response(status=502, text=BAD_GATEWAY_PAGE, content_type="text/html")
    if fault.kind == "close_before_answer":
        return cut(request, web.Response())
    if fault.kind == "stall" and fault.after_bytes < 0:
        await asyncio.sleep(fault.seconds)
    return None


def rate_limited(
    rate_limit: RateLimit | None, retry_after: str | None, key: Account, record: RequestRecord
) -> web.StreamResponse | None:
    """A 429 when ``key`` is over ``rate_limit`` (its ``Retry-After`` as told), else None."""
    if rate_limit is None:
        return None
    wait = key.admit(rate_limit, time.monotonic())
    if wait is None:
        return None
    headers: dict[str, str] = {}
    if retry_after == "seconds":
        headers["Retry-After"] = str(max(1, math.ceil(wait)))
    elif retry_after == "http-date":
        headers["Retry-After"] = email.utils.formatdate(time.time() + wait + 1, usegmt=True)
    return error_response(record, "API_KEY_RATE_LIMIT_EXCEEDED", "Rate limit exceeded", headers)


def log_request(record: RequestRecord) -> None:
    """One line per request at INFO on ``nanoreverse.emulator`` (what the command prints)."""
    if not logger.isEnabledFor(logging.INFO):
        return
    what = record.video_url or record.file_name or record.source or "?"
    outcome = record.error_code or ("answered" if record.status == 200 else "no answer")
    took = (record.ended or record.started) - record.started
    logger.info(
        "#%d %s %s %s -> %s %s (%.2f s)",
        record.number,
        record.source or "-",
        what,
        record.locale or "-",
        record.status if record.status is not None else "-",
        outcome,
        took,
    )
