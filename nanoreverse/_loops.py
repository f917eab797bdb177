"""One client, one event loop: a clear error when a client is used from a second loop.

An ``AsyncClient`` holds a connection pool, locks and a store connection, and each of
those belongs to the loop it was made on. Used from another loop (a second
``asyncio.run()``, a client kept in a global between notebook cells), aiohttp fails
later and obscurely ("Event loop is closed", a Future attached to a different loop),
with ResourceWarnings. The guard fails at once and names the fix.
"""

from __future__ import annotations

import asyncio

OTHER_LOOP = (
    "this AsyncClient was first used on another event loop (each asyncio.run() starts a "
    "new one), and its connections belong to that loop. Make the client inside the "
    "coroutine that asyncio.run() runs (one client per loop), or use nr.Client, which "
    "keeps a loop of its own and works from any thread, script or notebook."
)


class LoopGuard:
    """Remembers the loop of the first use and refuses any other (``RuntimeError``)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None

    def check(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise RuntimeError(OTHER_LOOP)
