"""What keeps an upload from hanging: a watchdog that cancels a write making no progress
(``Timeout.write``), and the clean-up aiohttp 3.13 needs after it."""

from __future__ import annotations

import asyncio

from aiohttp.abc import AbstractStreamWriter


class Watchdog:
    """Cancels the task it runs in when no progress is reported for ``timeout`` seconds.

    One timer per upload, moved only when it fires: a cancel scope around every piece
    cost more CPU than reading and encoding the piece (measured: 40 µs each).
    """

    def __init__(self, timeout: float | None) -> None:
        self.timeout = timeout
        self.fired = False
        self._last = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[object] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __enter__(self) -> Watchdog:
        if self.timeout is not None:
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
            self._last = self._loop.time()
            self._timer = self._loop.call_at(self._last + self.timeout, self._check)
        return self

    def progressed(self) -> None:
        if self._loop is not None:
            self._last = self._loop.time()

    def _check(self) -> None:
        assert self.timeout is not None and self._loop is not None and self._task is not None
        due = self._last + self.timeout
        if self._loop.time() < due:
            self._timer = self._loop.call_at(due, self._check)
            return
        self.fired = True
        self._task.cancel()

    def __exit__(self, *exc_info: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self.fired and self._task is not None and hasattr(self._task, "uncancel"):
            self._task.uncancel()  # our own cancellation, turned into an error


def retrieve_drain_error(writer: AbstractStreamWriter) -> None:
    """Stop aiohttp < 3.14 logging "Future exception was never retrieved" after a write
    timeout: it shields the future its writer waits on (aio-libs/aiohttp#12281, fixed
    upstream in #12307), so when the cancelled upload's connection is then lost, the
    future gets a ``ConnectionError`` nobody reads. The error is ours to report already.
    """
    waiter = getattr(getattr(writer, "protocol", None), "_drain_waiter", None)
    if isinstance(waiter, asyncio.Future):
        waiter.add_done_callback(lambda done: done.cancelled() or done.exception())
