"""One video of a batch: its stream opened with the batch's hooks, read to its end, and
what became of it as a Result (None when a stop ended it before anything was sent)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from .._errors import NanoReverseError, StreamInterruptedError
from .._keys import StoreKey
from .._sources.kinds import Source, SourceLike, as_source
from .._transport.calls import CallHooks
from .._transport.stream import AnalysisStream
from .control import Control, Running
from .events import BatchStats, Chunk, Event, RateLimited, Result, Retrying, Started

#: Opens one video's stream: ``(source, locale, hooks, refresh)``; the client's, in practice.
OpenStream = Callable[[Source, str, CallHooks, bool], AnalysisStream]


def _hooks(
    index: int,
    source: SourceLike,
    stats: BatchStats,
    listen: Callable[[Event], None] | None,
    call: Running,
    failed: dict[StoreKey, NanoReverseError],
) -> CallHooks:
    def rate_wait(wait: float) -> None:
        if math.isfinite(wait):
            stats.rate_limit_wait_until = time.monotonic() + wait
        if listen is not None:
            listen(RateLimited(index, source, wait))

    def retry(error: NanoReverseError, wait: float) -> None:
        call.on_retry()
        if listen is not None:
            listen(Retrying(index, source, error, wait))

    hooks = CallHooks(on_rate_wait=rate_wait, on_retry=retry, on_send=call.on_send)
    hooks.failed = failed
    if listen is not None:  # events are built only for someone who listens
        hooks.on_attempt = lambda n: listen(Started(index, source, n))
    return hooks


async def run_one(
    open_stream: OpenStream,
    index: int,
    source: SourceLike,
    locale: str,
    refresh: bool,
    stats: BatchStats,
    listen: Callable[[Event], None] | None,
    control: Control,
) -> Result | None:
    """One video's Result; None when a stop ended it before any request of it was out."""
    started = time.monotonic()
    try:
        resolved = as_source(source)
    except TypeError as exc:  # not a video source at all: its own failed result
        return Result(source, index, locale, error=exc)
    error: BaseException | None = None
    with control.call() as call:
        hooks = _hooks(index, source, stats, listen, call, control.failed)
        stream = open_stream(resolved, locale, hooks, refresh)
        try:
            async with stream:
                async for chunk in stream:
                    if listen is not None:
                        listen(Chunk(index, source, chunk))
        except NanoReverseError as exc:
            error = exc
    stopped = call.scope.cancelled_caught
    if stopped:
        if not call.sent and not stream.received_text:
            return None
        error = _stopped(stream)
    return Result(
        source=source,
        index=index,
        locale=stream.locale,
        markdown=stream.received_text,
        error=error,
        attempts=stream.attempts,
        elapsed=time.monotonic() - started,
        rate_limit_wait=stream.rate_limit_wait,
        cached=stream.cached,
        stopped=stopped,
        key=stream.key,
        store_error=stream.store_error,
    )


def _stopped(stream: AnalysisStream) -> StreamInterruptedError:
    text = stream.received_text
    return StreamInterruptedError(
        f"stopped on request after {len(text)} characters of the answer "
        "(the request was sent, so the credit may be spent)",
        partial_text=text,
    )
