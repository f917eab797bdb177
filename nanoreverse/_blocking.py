"""The blocking side of ``nr.Client``: the event loop it keeps in a daemon thread, and
the iterators a script reads answers and results through.

The thread is a daemon thread, not anyio's ``start_blocking_portal`` (a pool thread,
which interpreter exit joins: a Client never closed would hang the exit).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
from anyio.from_thread import BlockingPortal

from ._answer.shots import Analysis, Shot
from ._batch.events import BatchStats, Result
from ._batch.results import BatchResults
from ._transport.calls import CallFacts
from ._transport.stream import AnalysisStream

if TYPE_CHECKING:
    from ._client import AsyncClient

T = TypeVar("T")


class Loop:
    """An event loop in a daemon thread, and the portal to it."""

    def __init__(self) -> None:
        ready: queue.Queue[BlockingPortal] = queue.Queue(1)
        self.thread = threading.Thread(
            target=anyio.run, args=(self._serve, ready), name="nanoreverse-client", daemon=True
        )
        self.thread.start()
        self.portal = ready.get()

    @staticmethod
    async def _serve(ready: queue.Queue[BlockingPortal]) -> None:
        async with BlockingPortal() as portal:
            ready.put(portal)
            await portal.sleep_until_stopped()

    @property
    def reachable(self) -> bool:
        """Whether a call through the portal can be made (and waited for) from here."""
        return self.thread.is_alive() and threading.current_thread() is not self.thread

    def stop(self) -> None:
        if self.reachable:
            # Tasks still running in the portal (a batch never closed) are cancelled: waiting
            # for them hung the interpreter's exit.
            self.portal.call(lambda: self.portal.stop(cancel_remaining=True))
            self.thread.join()


def shut(loop: Loop, client: AsyncClient) -> None:
    if loop.reachable:
        loop.portal.call(client.aclose)
    loop.stop()


def each(portal: BlockingPortal, iterator: AsyncIterator[T]) -> Iterator[T]:
    """An async iterator on the portal's loop, iterated from this thread."""
    while True:
        try:
            yield blocking_call(portal, iterator.__anext__)
        except StopAsyncIteration:
            return


def blocking_call(portal: BlockingPortal, work: Callable[[], Awaitable[T]]) -> T:
    """``portal.call``, except that Ctrl-C (KeyboardInterrupt in this thread) also cancels
    the work on the client's loop: left running, it held up close() until a second Ctrl-C."""
    future = portal.start_task_soon(work)
    try:
        return future.result()
    except KeyboardInterrupt:
        future.cancel()
        raise


class Stream(CallFacts):
    """One video's answer for code that is not async: an iterator of ``str`` chunks.

    Leaving a ``with`` block or ``close()`` releases the connection, as with the async
    stream; iterating to the end does too.
    """

    def __init__(self, portal: BlockingPortal, stream: AnalysisStream) -> None:
        self._portal = portal
        self._stream = stream
        self._record = stream._record  # the same record: attempts, key, ... read live

    @property
    def received_text(self) -> str:
        """Everything received so far."""
        return self._stream.received_text

    def __repr__(self) -> str:
        return repr(self._stream).replace("AnalysisStream", "Stream", 1)

    def __iter__(self) -> Stream:
        return self

    def __next__(self) -> str:
        try:
            return blocking_call(self._portal, self._stream.__anext__)
        except StopAsyncIteration:
            raise StopIteration from None

    def __enter__(self) -> Stream:
        self._portal.call(self._stream.__aenter__)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._portal.call(self._stream.aclose)

    def text(self) -> str:
        """Read the answer to its end and return the whole Markdown."""
        return blocking_call(self._portal, self._stream.text)

    def analysis(self) -> Analysis:
        """Read to the end and return the parsed answer."""
        return self._portal.call(self._stream.analysis)

    def shots(self) -> Iterator[Shot]:
        """Each shot as soon as its table row is complete."""
        return each(self._portal, self._stream.shots())


class Results:
    """A batch's results for code that is not async, in completion order (or the
    sources' order with ``ordered=True``). Use it in a ``with`` block to be able to
    leave early; a plain ``for`` loop works too and closes the batch at its end."""

    def __init__(self, portal: BlockingPortal, batch: Any) -> None:
        self._portal = portal
        self._manager = portal.wrap_async_context_manager(batch)
        self._results: BatchResults | None = None
        self._closed = False

    @property
    def stats(self) -> BatchStats:
        return self._open().stats

    def stop(self, *, now: bool = False) -> None:
        """As :meth:`BatchResults.stop`: start no new call (``now``: end those in flight)."""
        results = self._open()
        self._portal.call(lambda: results.stop(now=now))

    def _open(self) -> BatchResults:
        if self._results is None:
            if self._closed:
                raise RuntimeError("these results are closed")
            # The batch's task group lives in a task of the portal until close().
            self._results = self._manager.__enter__()
        return self._results

    def __enter__(self) -> Results:
        self._open()
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self._finish(exc)

    def close(self) -> None:
        """Stop the batch (calls in flight are cancelled) and release what it holds."""
        self._finish(None)

    def _finish(self, exc: BaseException | None) -> None:
        if self._results is not None and not self._closed:
            self._closed = True
            if exc is not None and not isinstance(exc, Exception):
                # Ctrl-C (or SystemExit) belongs to this thread: the batch is closed as on
                # leaving early, and the interrupt goes on from here. Thrown into the
                # client's loop, it broke the loop and left close() stuck.
                exc = None
            if exc is None:
                self._manager.__exit__(None, None, None)
            else:
                self._manager.__exit__(type(exc), exc, exc.__traceback__)

    def __iter__(self) -> Iterator[Result]:
        results = self._open()
        try:
            yield from each(self._portal, results)
        finally:
            self.close()  # also when a loop is left early: nothing keeps running unseen
