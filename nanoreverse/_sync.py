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

import weakref
from typing import Any

from ._blocking import Loop, Results, Stream, shut
from ._client import AsyncClient
from ._signature import same_parameters
from ._sources.kinds import SourceLike


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

    @same_parameters(AsyncClient.__init__)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._loop = Loop()
        try:
            # Built on its loop: what it makes there (the session, locks) belongs to it.
            self._async: AsyncClient = self._loop.portal.call(lambda: AsyncClient(*args, **kwargs))
        except BaseException:
            self._loop.stop()
            raise
        self._close = weakref.finalize(self, shut, self._loop, self._async)

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

    @same_parameters(AsyncClient.analyze_many)
    def analyze_many(self, *args: Any, **kwargs: Any) -> Results:
        """Many videos, as :meth:`AsyncClient.analyze_many` (same options); iterate the
        results as they complete. ``on_event`` is called on the client's own thread.

        >>> for result in client.analyze_many(paths, concurrency=4):   # doctest: +SKIP
        ...     print(result.source, result.ok)
        """
        return Results(self._loop.portal, self._async.analyze_many(*args, **kwargs))
