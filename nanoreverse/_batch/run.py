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

import os
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sized
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectSendStream

from .._config import check_locale, check_whole
from .._errors import (
    AuthenticationError,
    InsufficientCreditsError,
)
from .._sources.kinds import SourceLike
from .control import Budget, Control, Puller
from .events import (
    BatchStats,
    Event,
    Finished,
    Queued,
    Result,
)
from .one import OpenStream, run_one
from .results import BatchResults

# About the key or the account, not the video: every later call would fail the same way.
_ACCOUNT_ERRORS = (AuthenticationError, InsufficientCreditsError)


#: Workers started at once for an iterator of unknown length; more start as it yields.
_EAGER = 16


@dataclass(frozen=True)
class BatchOptions:
    """What one batch was asked for: ``AsyncClient.analyze_many``'s arguments (documented
    there), checked when made, so a wrong one is an error before anything is pulled."""

    locale: str
    concurrency: int
    ordered: bool
    max_credits: int | None
    refresh: bool
    stop_on_account_error: bool

    def __post_init__(self) -> None:
        check_locale(self.locale)
        check_whole("concurrency", self.concurrency, 1)
        check_whole("max_credits", self.max_credits, 0, allow_none=True)


@asynccontextmanager
async def analyze_many(
    open_stream: OpenStream,
    sources: Iterable[SourceLike] | AsyncIterable[SourceLike],
    options: BatchOptions,
    on_event: Callable[[Event], Any] | None,
    estimate: Callable[[int], float],
) -> AsyncIterator[BatchResults]:
    """Analyse many videos, each through ``open_stream``; see :meth:`AsyncClient.analyze_many`
    (which hands its own stream opener, the options, the listener and its rate limiter's
    estimate)."""
    if isinstance(sources, str | bytes | os.PathLike):
        raise TypeError(
            f"analyze_many takes many sources, got one ({type(sources).__name__}): pass a "
            "list, e.g. analyze_many([source]), or use analyze(source)"
        )
    batch = _Batch(open_stream, sources, options, on_event)
    concurrency, ordered = options.concurrency, options.ordered
    results = BatchResults(
        estimate,
        batch.receive,
        batch.tokens,
        ordered=ordered,
        concurrency=concurrency,
        stats=batch.stats,
        control=batch.control,
    )
    raised: Exception | None = None
    # As many as can be used at once start together (a list's length, or a first few of
    # an iterator's); the rest start as sources are pulled.
    eager = min(concurrency, len(sources) if isinstance(sources, Sized) else _EAGER)
    async with batch.receive, anyio.create_task_group() as group:
        batch.group = group
        for _ in range(max(eager, 1)):
            batch.spawn()
        try:
            yield results
        except Exception as exc:
            # Raised out here, after the task group, it is not wrapped in an ExceptionGroup.
            raised = exc
        finally:
            group.cancel_scope.cancel()
    if raised is not None:
        raise raised
    error = batch.control.take_error()
    if error is not None:  # the consumer left before it was handed over
        raise error


class _Batch:
    """One batch's state and its workers: what pulls sources, runs calls and hands over
    results (``analyze_many`` opens and closes it around the consumer)."""

    def __init__(
        self,
        open_stream: OpenStream,
        sources: Iterable[SourceLike] | AsyncIterable[SourceLike],
        options: BatchOptions,
        on_event: Callable[[Event], Any] | None,
    ) -> None:
        self.open_stream, self.options = open_stream, options
        self.stats = BatchStats()
        self.control = Control()
        self.listen = self.control.listener(on_event)
        self.budget = Budget(options.max_credits)
        self.puller = Puller(sources, self.control)
        # A token is held from pulling a source until the consumer takes its result.
        look_ahead = options.concurrency * (4 if options.ordered else 1)
        self.tokens = anyio.Semaphore(look_ahead, fast_acquire=True)
        # The tokens already bound what is pulled but not yet taken, so a buffer as large
        # changes no bound; it spares each hand-over a rendezvous of the two tasks.
        self.send, self.receive = anyio.create_memory_object_stream[Result](look_ahead)
        self.group: anyio.abc.TaskGroup | None = None
        # The receiving end closes only after every worker has finished (a worker hands
        # over results without awaiting, so it must never find that end already closed).
        self._started = self._live = 0

    def spawn(self) -> None:
        """Start one more worker, up to ``concurrency``: a huge bound costs nothing beyond
        the sources there are (it once meant one task per unit up front)."""
        if self._started < self.options.concurrency:
            assert self.group is not None
            self._started += 1
            self._live += 1
            self.group.start_soon(self._run_worker, self.send.clone())

    async def _run_worker(self, results: MemoryObjectSendStream[Result]) -> None:
        try:
            await self._work(results)
        finally:
            self._live -= 1
            if self._live == 0:  # no worker left to start another: the results end here
                self.send.close()

    async def _next_source(self) -> tuple[int, SourceLike] | None:
        """The next source to analyse, its place held in the budget; None: start no more."""
        if self.control.stopping or self.stats.stopped_by is not None:
            return None
        if not await self.budget.reserve():
            self.stats.budget_exhausted = True
            return None
        item = None if self.control.stopping else await self.puller.next()
        if item is None:
            await self.budget.settle(paid=False)
        return item

    async def _work(self, results: MemoryObjectSendStream[Result]) -> None:
        stats, listen, options = self.stats, self.listen, self.options
        async with results:
            while True:
                await self.tokens.acquire()
                item = await self._next_source()
                if item is None:
                    self.tokens.release()
                    return
                self.spawn()  # a source was pulled: the next one may start beside it
                index, source = item
                stats.queued += 1
                if listen is not None:
                    listen(Queued(index, source))
                stats.in_flight += 1
                try:
                    result: Result | None = await run_one(
                        self.open_stream, index, source, options.locale, options.refresh,
                        stats, listen, self.control,
                    )  # fmt: skip
                except Exception as exc:
                    self.control.fail(exc)
                    result = None
                finally:
                    stats.in_flight -= 1
                await self.budget.settle(paid=result is not None and result.paid)
                if result is None:
                    self.tokens.release()
                    continue
                stats.count(result)
                if options.stop_on_account_error and isinstance(result.error, _ACCOUNT_ERRORS):
                    stats.stopped_by = stats.stopped_by or result.error
                if listen is not None:
                    listen(Finished(result))
                # Never blocks: the buffer holds as many results as there are tokens.
                results.send_nowait(result)
