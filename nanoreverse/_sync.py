"""Client: the async client for code that is not async (scripts, notebooks).

An :class:`AsyncClient` runs on an event loop of its own in a thread, reached through
anyio's blocking portal; each method blocks until its answer. It never touches the
caller's loop, so it works the same in a plain script and in Jupyter (whose loop is
already running). The thread is a daemon thread, not anyio's ``start_blocking_portal``
(a pool thread, which interpreter exit joins: a Client never closed would hang the
exit); a finalizer closes the client at exit or when it is collected, so no
"Event loop is closed" or "Unclosed client session" is left behind.
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
from anyio.from_thread import BlockingPortal

if TYPE_CHECKING:
    from ssl import SSLContext

    import aiohttp

from ._answer.shots import Analysis, Shot
from ._batch.events import BatchStats, Result
from ._batch.results import BatchResults
from ._client import AsyncClient
from ._clock import REAL_CLOCK, Clock
from ._config import (
    DEFAULT_BACKOFF,
    DEFAULT_RATE_LIMIT,
    DEFAULT_TIMEOUT,
    Backoff,
    RateLimit,
    Timeout,
)
from ._sources.kinds import SourceLike
from ._store import Store
from ._transport.http import Hook, ResponseHook
from ._transport.stream import AnalysisStream

T = TypeVar("T")


class _Loop:
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


def _shut(loop: _Loop, client: AsyncClient) -> None:
    if loop.reachable:
        loop.portal.call(client.aclose)
    loop.stop()


def _each(portal: BlockingPortal, iterator: AsyncIterator[T]) -> Iterator[T]:
    """An async iterator on the portal's loop, iterated from this thread."""
    while True:
        try:
            yield _call(portal, iterator.__anext__)
        except StopAsyncIteration:
            return


def _call(portal: BlockingPortal, work: Callable[[], Awaitable[T]]) -> T:
    """``portal.call``, except that Ctrl-C (KeyboardInterrupt in this thread) also cancels
    the work on the client's loop: left running, it held up close() until a second Ctrl-C."""
    future = portal.start_task_soon(work)
    try:
        return future.result()
    except KeyboardInterrupt:
        future.cancel()
        raise


class Client:
    """A client for code that is not async; each method blocks until its answer.

    It runs an ``AsyncClient`` on an event loop of its own in a background thread, so it
    works the same in a script, a thread pool and a Jupyter notebook.

    Args:
        api_key: As ``AsyncClient``'s: the key, or None for ``NANOPHOTO_API_KEY``.
        base_url: As ``AsyncClient``'s.
        locale: As ``AsyncClient``'s.
        max_retries: As ``AsyncClient``'s.
        rate_limit: As ``AsyncClient``'s.
        timeout: As ``AsyncClient``'s.
        backoff: As ``AsyncClient``'s.
        session: As ``AsyncClient``'s (a session made on the client's own loop only).
        store: As ``AsyncClient``'s.
        proxy: As ``AsyncClient``'s.
        ssl: As ``AsyncClient``'s.
        trust_env: As ``AsyncClient``'s.
        on_request: As ``AsyncClient``'s; called on the client's thread.
        on_response: As ``AsyncClient``'s; called on the client's thread.
        clock: As ``AsyncClient``'s.

    >>> with nr.Client() as client:                       # doctest: +SKIP
    ...     for chunk in client.analyze("ad.mp4"):
    ...         print(chunk, end="")
    ...     for result in client.analyze_many(["a.mp4", "b.mp4"]):
    ...         print(result.source, result.ok)
    """

    # The same signature as AsyncClient's, written out (as openai-python's sync client
    # does) so that IDEs, mypy and help() show every parameter.
    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        locale: str = "en",
        max_retries: int = 4,
        rate_limit: RateLimit | int | None = DEFAULT_RATE_LIMIT,
        timeout: Timeout | float | None = DEFAULT_TIMEOUT,
        backoff: Backoff | float = DEFAULT_BACKOFF,
        session: aiohttp.ClientSession | None = None,
        store: Store | None = None,
        proxy: str | None = None,
        ssl: SSLContext | bool = True,
        trust_env: bool = True,
        on_request: Hook | None = None,
        on_response: ResponseHook | None = None,
        clock: Clock = REAL_CLOCK,
    ) -> None:
        # Every parameter but the key, as given (the signature above is the one source).
        options = {k: v for k, v in locals().items() if k not in ("self", "api_key")}
        self._loop = _Loop()
        try:
            # Built on its loop: what it makes there (the session, locks) belongs to it.
            self._async: AsyncClient = self._loop.portal.call(
                lambda: AsyncClient(api_key, **options)
            )
        except BaseException:
            self._loop.stop()
            raise
        self._close = weakref.finalize(self, _shut, self._loop, self._async)

    @property
    def async_client(self) -> AsyncClient:
        """The AsyncClient underneath (its settings: ``base_url``, ``locale``, ...)."""
        return self._async

    def __repr__(self) -> str:
        return repr(self._async).replace("AsyncClient", "Client", 1)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the client and stop its thread (also done at exit if you forget)."""
        self._close()

    def analyze(
        self, source: SourceLike, *, locale: str | None = None, refresh: bool = False
    ) -> Stream:
        """One video's answer: iterate it for ``str`` chunks, or call ``.text()``.

        >>> print(client.analyze("ad.mp4", locale="ja").text())   # doctest: +SKIP
        """
        return Stream(
            self._loop.portal, self._async.analyze(source, locale=locale, refresh=refresh)
        )

    def analyze_many(self, sources: Iterable[SourceLike], **options: Any) -> Results:
        """Many videos, as :meth:`AsyncClient.analyze_many` (same options); iterate the
        results as they complete. ``on_event`` is called on the client's own thread.

        >>> for result in client.analyze_many(paths, concurrency=4):   # doctest: +SKIP
        ...     print(result.source, result.ok)
        """
        return Results(self._loop.portal, self._async.analyze_many(sources, **options))


class Stream:
    """One video's answer for code that is not async: an iterator of ``str`` chunks.

    Leaving a ``with`` block or ``close()`` releases the connection, as with the async
    stream; iterating to the end does too.
    """

    def __init__(self, portal: BlockingPortal, stream: AnalysisStream) -> None:
        self._portal = portal
        self._stream = stream

    @property
    def attempts(self) -> int:
        return self._stream.attempts

    @property
    def cached(self) -> bool:
        return self._stream.cached

    @property
    def received_text(self) -> str:
        return self._stream.received_text

    def __repr__(self) -> str:
        return repr(self._stream).replace("AnalysisStream", "Stream", 1)

    def __iter__(self) -> Stream:
        return self

    def __next__(self) -> str:
        try:
            return _call(self._portal, self._stream.__anext__)
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
        return _call(self._portal, self._stream.text)

    def analysis(self) -> Analysis:
        """Read to the end and return the parsed answer."""
        return self._portal.call(self._stream.analysis)

    def shots(self) -> Iterator[Shot]:
        """Each shot as soon as its table row is complete."""
        return _each(self._portal, self._stream.shots())


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

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._finish(exc_type, exc, tb)

    def close(self) -> None:
        """Stop the batch (calls in flight are cancelled) and release what it holds."""
        self._finish(None, None, None)

    def _finish(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._results is not None and not self._closed:
            self._closed = True
            if exc is not None and not isinstance(exc, Exception):
                # Ctrl-C (or SystemExit) belongs to this thread: the batch is closed as on
                # leaving early, and the interrupt goes on from here. Thrown into the
                # client's loop, it broke the loop and left close() stuck.
                exc_type, exc, tb = None, None, None
            self._manager.__exit__(exc_type, exc, tb)

    def __iter__(self) -> Iterator[Result]:
        results = self._open()
        try:
            yield from _each(self._portal, results)
        finally:
            self.close()  # also when a loop is left early: nothing keeps running unseen
