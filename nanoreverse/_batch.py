"""analyze_many: many videos through one client, a bounded number at a time.

The shape is aiometer's ``amap``: a task group of ``concurrency`` workers, each
pulling the next source (lazily, under a lock, so an endless generator works),
analysing it through the client (whose limiter paces every call), and handing
its Result to the consumer over a memory object stream. A worker holds a token
from pulling a source until the consumer has taken its result, so look-ahead
stays bounded (``concurrency`` items; with ``ordered=True`` up to four times
that may wait to be released in input order). Leaving the ``async with`` block
cancels whatever is in flight.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._config import check_locale
from ._errors import AuthenticationError, InsufficientCreditsError, NanoReverseError
from ._results import (
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
from ._sources import SourceLike
from ._stream import CallHooks

if TYPE_CHECKING:
    from ._client import AsyncClient


# -- the pieces -----------------------------------------------------------------------


class _Budget:
    """``max_credits``: calls in flight plus calls that may have been paid never exceed it."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.spent = 0
        self.reserved = 0
        self._changed = anyio.Event()

    async def reserve(self) -> bool:
        if self.limit is None:
            return True
        while self.spent + self.reserved >= self.limit:
            if self.reserved == 0:
                return False
            await self._changed.wait()
        self.reserved += 1
        return True

    def settle(self, paid: bool) -> None:
        if self.limit is None:
            return
        self.reserved -= 1
        self.spent += paid
        self._changed.set()
        self._changed = anyio.Event()


class _Puller:
    """Takes sources one at a time from an iterable or async iterable, numbering them."""

    def __init__(self, sources: Iterable[SourceLike] | AsyncIterable[SourceLike]) -> None:
        self._sync: Iterator[SourceLike] | None = None
        self._async: AsyncIterator[SourceLike] | None = None
        if isinstance(sources, AsyncIterable):
            self._async = aiter(sources)
        else:
            self._sync = iter(sources)
        # Only an async iterator can be asked twice at once; next() on a sync one cannot.
        self._lock = anyio.Lock(fast_acquire=True) if self._async is not None else None
        self._index = 0
        self.exhausted = False

    async def next(self) -> tuple[int, SourceLike] | None:
        if self._lock is None:
            return self._take_sync()
        async with self._lock:
            if self.exhausted:
                return None
            assert self._async is not None
            try:
                item = await anext(self._async)
            except StopAsyncIteration:
                self.exhausted = True
                return None
            return self._numbered(item)

    def _take_sync(self) -> tuple[int, SourceLike] | None:
        assert self._sync is not None
        if self.exhausted:
            return None
        try:
            item = next(self._sync)
        except StopIteration:
            self.exhausted = True
            return None
        return self._numbered(item)

    def _numbered(self, item: SourceLike) -> tuple[int, SourceLike]:
        self._index += 1
        return self._index - 1, item


class BatchResults:
    """The results of ``analyze_many``, as an async iterator (completion order by default)."""

    def __init__(
        self,
        client: AsyncClient,
        receive: MemoryObjectReceiveStream[Result],
        tokens: anyio.Semaphore,
        *,
        ordered: bool,
        concurrency: int,
        stats: BatchStats,
    ) -> None:
        self._client = client
        self._receive = receive
        self._tokens = tokens
        self._ordered = ordered
        self._held: list[tuple[int, Result]] = []
        self._next_index = 0
        self.concurrency = concurrency
        self.stats = stats

    def __aiter__(self) -> BatchResults:
        return self

    async def __anext__(self) -> Result:
        result = await (self._next_in_order() if self._ordered else self._next_any())
        self._tokens.release()
        return result

    async def _receive_one(self) -> Result:
        # A result already waiting is taken without a trip round the event loop.
        try:
            return self._receive.receive_nowait()
        except anyio.WouldBlock:
            return await self._receive.receive()

    async def _next_any(self) -> Result:
        try:
            return await self._receive_one()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def _next_in_order(self) -> Result:
        while not (self._held and self._held[0][0] == self._next_index):
            try:
                result = await self._receive_one()
            except anyio.EndOfStream:
                if not self._held:
                    raise StopAsyncIteration from None
                break  # a gap can only come from a cancelled worker: release what is held
            heapq.heappush(self._held, (result.index, result))
        _, result = heapq.heappop(self._held)
        self._next_index = result.index + 1
        return result

    def eta(self, remaining: int) -> float | None:
        """Seconds until ``remaining`` more videos are done, from latency, concurrency and the
        rate limit; None until one video has finished."""
        latencies = self.stats.latencies
        if remaining <= 0:
            return 0.0
        if not latencies:
            return None
        latency = sorted(latencies)[len(latencies) // 2]
        by_concurrency = math.ceil(remaining / self.concurrency) * latency
        by_rate = self._client.limiter.estimate(remaining) + latency
        return max(by_concurrency, by_rate)


async def _run_one(
    client: AsyncClient,
    index: int,
    source: SourceLike,
    locale: str | None,
    refresh: bool,
    stats: BatchStats,
    on_event: Callable[[Event], Any] | None,
) -> Result:
    started = time.monotonic()

    def rate_wait(wait: float) -> None:
        if math.isfinite(wait):
            stats.rate_limit_wait_until = time.monotonic() + wait
        if on_event is not None:
            on_event(RateLimited(index, source, wait))

    hooks = CallHooks(on_rate_wait=rate_wait)
    if on_event is not None:  # events are built only for someone who listens
        hooks.on_attempt = lambda n: on_event(Started(index, source, n))
        hooks.on_retry = lambda error, wait: on_event(Retrying(index, source, error, wait))
    stream = client._stream(source, locale=locale, hooks=hooks, refresh=refresh)
    error: BaseException | None = None
    try:
        async with stream:
            async for chunk in stream:
                if on_event is not None:
                    on_event(Chunk(index, source, chunk))
    except (NanoReverseError, TypeError) as exc:
        # TypeError: something that is not a video source at all; the batch goes on.
        error = exc
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
    )


# About the key or the account, not the video: every later call would fail the same way.
_ACCOUNT_ERRORS = (AuthenticationError, InsufficientCreditsError)


@asynccontextmanager
async def analyze_many(
    client: AsyncClient,
    sources: Iterable[SourceLike] | AsyncIterable[SourceLike],
    *,
    concurrency: int = 4,
    locale: str | None = None,
    ordered: bool = False,
    max_credits: int | None = None,
    on_event: Callable[[Event], Any] | None = None,
    refresh: bool = False,
    stop_on_account_error: bool = False,
) -> AsyncIterator[BatchResults]:
    """Analyse many videos through ``client``; see :meth:`AsyncClient.analyze_many`."""
    if not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a whole number ≥ 1, got {concurrency!r}")
    if max_credits is not None and (
        isinstance(max_credits, bool) or not isinstance(max_credits, int) or max_credits < 0
    ):
        raise ValueError(f"max_credits must be None or a whole number ≥ 0, got {max_credits!r}")
    if locale is not None:
        check_locale(locale)

    stats = BatchStats()
    budget = _Budget(max_credits)
    puller = _Puller(sources)
    # A token is held from pulling a source until the consumer takes its result.
    look_ahead = concurrency * (4 if ordered else 1)
    tokens = anyio.Semaphore(look_ahead, fast_acquire=True)
    # The tokens already bound what is pulled but not yet taken, so a buffer as large
    # changes no bound; it spares each hand-over a rendezvous of the two tasks.
    send, receive = anyio.create_memory_object_stream[Result](look_ahead)

    async def worker(results: MemoryObjectSendStream[Result]) -> None:
        async with results:
            while True:
                await tokens.acquire()
                if stats.stopped_by is not None:
                    tokens.release()
                    return
                if not await budget.reserve():
                    stats.budget_exhausted = True
                    tokens.release()
                    return
                item = await puller.next()
                if item is None:
                    budget.settle(paid=False)
                    tokens.release()
                    return
                index, source = item
                stats.queued += 1
                if on_event is not None:
                    on_event(Queued(index, source))
                stats.in_flight += 1
                try:
                    result = await _run_one(client, index, source, locale, refresh, stats, on_event)
                finally:
                    stats.in_flight -= 1
                budget.settle(paid=result.paid)
                stats.count(result)
                if stop_on_account_error and isinstance(result.error, _ACCOUNT_ERRORS):
                    stats.stopped_by = stats.stopped_by or result.error
                if on_event is not None:
                    on_event(Finished(result))
                # Never blocks: the buffer holds as many results as there are tokens.
                results.send_nowait(result)

    results = BatchResults(
        client, receive, tokens, ordered=ordered, concurrency=concurrency, stats=stats
    )
    # The receiving end closes only after every worker has finished (a worker hands over
    # results without awaiting, so it must never find that end already closed).
    async with receive, anyio.create_task_group() as group:
        async with send:
            for _ in range(concurrency):
                group.start_soon(worker, send.clone())
        try:
            yield results
        finally:
            group.cancel_scope.cancel()
