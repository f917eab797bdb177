"""One paid call's answer, followed by every identical call of the client.

The answer goes into a :class:`Shared` buffer as it arrives (``through.py``'s pump reads
it); each caller, the first one too, reads it back through a :class:`Follower`, so one
caller going away never cuts the others short. :class:`InFlight` holds a client's calls
being followed and the tasks reading them.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Awaitable

import anyio

from .._keys import StoreKey


class Shared:
    """One paid call's answer as it arrives, for identical calls in this process to follow."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.opened = False
        self.ended = False
        self.error: BaseException | None = None
        self._changed = anyio.Event()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    def open(self) -> None:
        self.opened = True
        self._notify()

    def push(self, text: str) -> None:
        self.parts.append(text)
        self._notify()

    def end(self, error: BaseException | None) -> None:
        self.ended, self.error = True, error
        self._notify()

    async def wait_opened(self) -> None:
        while not (self.opened or self.ended):
            await self._changed.wait()
        if not self.opened and self.error is not None:
            raise copy.copy(self.error)  # the shared call failed before its answer began

    async def part(self, index: int) -> str:
        while index >= len(self.parts) and not self.ended:
            await self._changed.wait()
        if index < len(self.parts):
            return self.parts[index]
        if self.error is not None:
            raise copy.copy(self.error)  # the paid answer's own error, with its text so far
        return ""

    def text(self) -> str:
        return "".join(self.parts)


class InFlight:
    """A client's paid answers being read by its own tasks, and the calls following them.

    >>> in_flight = InFlight(); await in_flight.aclose()     # doctest: +SKIP
    """

    def __init__(self) -> None:
        self.calls: dict[StoreKey, Shared] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)  # held here: the loop keeps only a weak reference
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Stop reading: the client is closing. What was read is logged in the store."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task


class Follower:
    """An answer read from another task's identical call, live."""

    def __init__(self, shared: Shared) -> None:
        self._shared = shared
        self._index = 0

    async def read(self) -> str:
        text = await self._shared.part(self._index)
        self._index += 1
        return text

    async def close(self, *, complete: bool, text: str, error: BaseException | None) -> None:
        pass
