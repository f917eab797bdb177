"""The consumer's side of analyze_many: results as they finish or in input order.

Each result taken gives its worker's token back, which lets the batch pull the next
source: how fast the consumer reads is what paces the look-ahead.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import NoReturn

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from .control import Control
from .events import BatchStats, Result


class BatchResults:
    """The results of ``analyze_many``, as an async iterator (completion order by default)."""

    def __init__(
        self,
        estimate: Callable[[int], float],
        receive: MemoryObjectReceiveStream[Result],
        tokens: anyio.Semaphore,
        *,
        ordered: bool,
        concurrency: int,
        stats: BatchStats,
        control: Control,
    ) -> None:
        self._estimate = estimate  # the rate limiter's: seconds until N more calls may start
        self._control = control
        self._receive = receive
        self._tokens = tokens
        self._ordered = ordered
        self._held: list[tuple[int, Result]] = []
        self._next_index = 0
        self.concurrency = concurrency
        self.stats = stats

    def __aiter__(self) -> BatchResults:
        return self

    def stop(self, *, now: bool = False) -> None:
        """Start no new call; iteration ends once the calls in flight are delivered.

        A call with a request out finishes (it may already be paid); one that has none
        yet (waiting for the rate limiter, a retry, or another run's answer) ends unsent
        and is not delivered. With ``now=True`` every call ends at once, a sent one
        delivered with the text it had (``result.stopped``, ``StreamInterruptedError``).

        >>> async with client.analyze_many(paths) as results:  # doctest: +SKIP
        ...     async for result in results:
        ...         if not result.ok:
        ...             results.stop()
        """
        self._control.stop(now=now)

    def _finished(self) -> NoReturn:
        """The end of the results, or the exception that ended the batch early (once)."""
        error = self._control.take_error()
        if error is not None:
            raise error
        raise StopAsyncIteration

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
            pass
        self._finished()

    async def _next_in_order(self) -> Result:
        while not (self._held and self._held[0][0] == self._next_index):
            try:
                result = await self._receive_one()
            except anyio.EndOfStream:
                if self._held:
                    break  # a gap: a call stopped before it was sent. Release what is held
                self._finished()
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
        by_rate = self._estimate(remaining) + latency
        return max(by_concurrency, by_rate)
