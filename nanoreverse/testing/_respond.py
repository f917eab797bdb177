"""The emulator's answers on the wire: an error object, or the Markdown streamed, paced,
and cut or stalled where a fault says."""

from __future__ import annotations

import asyncio

from aiohttp import web

from ._faults import STATUS_OF_CODE, Fault, RequestRecord


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
