"""analyze_many: many videos through one client, a bounded number at a time.

The shape is aiometer's ``amap``: a task group of ``concurrency`` workers, each
pulling the next source (lazily, under a lock, so an endless generator works),
analysing it through the client (whose limiter paces every call), and handing
its Result to the consumer over a memory object stream. A worker holds a token
from pulling a source until the consumer has taken its result, so look-ahead
stays bounded (``concurrency`` items; with ``ordered=True`` up to four times
that may wait to be released in input order).

What may stop a batch, and what it costs:

- a bad source is one failed Result; the batch goes on;
- an exception from the sources' iterable or from ``on_event`` starts no new call,
  lets the calls in flight finish (they may be paid), delivers them, then raises
  that exception itself to the consumer (never an ExceptionGroup);
- ``results.stop()`` starts no new call; ``stop(now=True)`` also stops the calls in
  flight and delivers each with the text it had (``result.stopped``);
- leaving the ``async with`` block cancels whatever is in flight; an exception raised
  inside it comes out as itself.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sized
from contextlib import asynccontextmanager
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectSendStream

from .._config import check_locale
from .._errors import (
    AuthenticationError,
    InsufficientCreditsError,
    NanoReverseError,
    StreamInterruptedError,
)
from .._keys import StoreKey
from .._sources.kinds import Source, SourceLike, as_source
from .._transport.stream import AnalysisStream, CallHooks
from .control import Budget, Call, Control, Puller
from .events import (
    BatchStats,
    Chunk,
    Event,
    Finished,
    Queued,
    RateLimited,
    Result,
    Retrying,
    Started,
)
from .results import BatchResults

#: Opens one video's stream: ``(source, locale, hooks, refresh)``; the client's, in practice.
OpenStream = Callable[[Source, str, CallHooks, bool], AnalysisStream]


def _hooks(
    index: int,
    source: SourceLike,
    stats: BatchStats,
    listen: Callable[[Event], None] | None,
    call: Call,
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


async def _run_one(
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


# About the key or the account, not the video: every later call would fail the same way.
_ACCOUNT_ERRORS = (AuthenticationError, InsufficientCreditsError)


#: Workers started at once for an iterator of unknown length; more start as it yields.
_EAGER = 16


@asynccontextmanager
async def analyze_many(
    open_stream: OpenStream,
    sources: Iterable[SourceLike] | AsyncIterable[SourceLike],
    *,
    locale: str,
    estimate: Callable[[int], float],
    concurrency: int = 4,
    ordered: bool = False,
    max_credits: int | None = None,
    on_event: Callable[[Event], Any] | None = None,
    refresh: bool = False,
    stop_on_account_error: bool = False,
) -> AsyncIterator[BatchResults]:
    """Analyse many videos, each through ``open_stream``; see :meth:`AsyncClient.analyze_many`
    (which hands its own stream opener, its locale and its rate limiter's estimate)."""
    if isinstance(sources, str | bytes | os.PathLike):
        raise TypeError(
            f"analyze_many takes many sources, got one ({type(sources).__name__}): pass a "
            "list, e.g. analyze_many([source]), or use analyze(source)"
        )
    if not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a whole number ≥ 1, got {concurrency!r}")
    if max_credits is not None and (
        isinstance(max_credits, bool) or not isinstance(max_credits, int) or max_credits < 0
    ):
        raise ValueError(f"max_credits must be None or a whole number ≥ 0, got {max_credits!r}")
    check_locale(locale)

    stats = BatchStats()
    control = Control()
    listen = control.listener(on_event)
    budget = Budget(max_credits)
    puller = Puller(sources, control)
    # A token is held from pulling a source until the consumer takes its result.
    look_ahead = concurrency * (4 if ordered else 1)
    tokens = anyio.Semaphore(look_ahead, fast_acquire=True)
    # The tokens already bound what is pulled but not yet taken, so a buffer as large
    # changes no bound; it spares each hand-over a rendezvous of the two tasks.
    send, receive = anyio.create_memory_object_stream[Result](look_ahead)

    async def next_source() -> tuple[int, SourceLike] | None:
        """The next source to analyse, its place held in the budget; None: start no more."""
        if control.stopping or stats.stopped_by is not None:
            return None
        if not await budget.reserve():
            stats.budget_exhausted = True
            return None
        item = None if control.stopping else await puller.next()
        if item is None:
            await budget.settle(paid=False)
        return item

    async def worker(results: MemoryObjectSendStream[Result]) -> None:
        async with results:
            while True:
                await tokens.acquire()
                item = await next_source()
                if item is None:
                    tokens.release()
                    return
                spawn()  # a source was pulled: the next one may start beside it
                index, source = item
                stats.queued += 1
                if listen is not None:
                    listen(Queued(index, source))
                stats.in_flight += 1
                try:
                    result = await _run_one(
                        open_stream, index, source, locale, refresh, stats, listen, control
                    )
                except Exception as exc:
                    control.fail(exc)
                    result = None
                finally:
                    stats.in_flight -= 1
                await budget.settle(paid=result is not None and result.paid)
                if result is None:
                    tokens.release()
                    continue
                stats.count(result)
                if stop_on_account_error and isinstance(result.error, _ACCOUNT_ERRORS):
                    stats.stopped_by = stats.stopped_by or result.error
                if listen is not None:
                    listen(Finished(result))
                # Never blocks: the buffer holds as many results as there are tokens.
                results.send_nowait(result)

    results = BatchResults(
        estimate,
        receive,
        tokens,
        ordered=ordered,
        concurrency=concurrency,
        stats=stats,
        control=control,
    )
    raised: Exception | None = None
    # The receiving end closes only after every worker has finished (a worker hands over
    # results without awaiting, so it must never find that end already closed).
    started = live = 0

    def spawn() -> None:
        # Workers start as sources are pulled, up to ``concurrency``: a huge bound costs
        # nothing beyond the sources there are (it once meant one task per unit up front).
        nonlocal started, live
        if started < concurrency:
            started, live = started + 1, live + 1
            group.start_soon(run_worker, send.clone())

    async def run_worker(results: MemoryObjectSendStream[Result]) -> None:
        nonlocal live
        try:
            await worker(results)
        finally:
            live -= 1
            if live == 0:  # no worker left to start another: the results end here
                send.close()

    # As many as can be used at once start together (a list's length, or a first few of
    # an iterator's); the rest start as sources are pulled.
    eager = min(concurrency, len(sources) if isinstance(sources, Sized) else _EAGER)
    async with receive, anyio.create_task_group() as group:
        for _ in range(max(eager, 1)):
            spawn()
        try:
            yield results
        except Exception as exc:
            # Raised out here, after the task group, it is not wrapped in an ExceptionGroup.
            raised = exc
        finally:
            group.cancel_scope.cancel()
    if raised is not None:
        raise raised
    error = control.take_error()
    if error is not None:  # the consumer left before it was handed over
        raise error
