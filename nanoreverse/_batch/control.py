"""What decides whether a batch's worker starts another call: the sources, the budget, a stop.

Each piece is asked by a worker before it starts a call. None of them ever raises into
a worker: an exception from the user's side (the sources' iterable, ``on_event``) is
kept by :class:`Control`, which stops new calls and hands it to the consumer once the
calls already in flight have been delivered. Paid calls are never cancelled by it.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio

from .._errors import NanoReverseError
from .._keys import StoreKey
from .._sources.kinds import SourceLike
from .events import Event


class Running:
    """One running call of a batch, as :class:`Control` sees it: its cancel scope, and whether a
    request of it is out (then stopping it may waste a credit)."""

    def __init__(self, control: Control) -> None:
        self.scope = anyio.CancelScope()
        self.sent = False
        self._control = control

    def on_send(self) -> None:
        if self._control.stopping:
            self.scope.cancel()  # stopped while it waited for its turn: it never goes out
        else:
            self.sent = True

    def on_retry(self) -> None:
        self.sent = False  # a call is retried only when the server surely did no work


class Control:
    """Whether workers may start another call, and the exception the consumer gets last."""

    def __init__(self) -> None:
        #: No worker starts another call.
        self.stopping = False
        #: The first exception from the user's side; raised to the consumer after the
        #: results of the calls that were in flight.
        self.error: Exception | None = None
        self._now = False
        self._calls: set[Running] = set()
        #: Contents whose call failed, by store key (see ``CallHooks.failed``).
        self.failed: dict[StoreKey, NanoReverseError] = {}

    def fail(self, error: Exception) -> None:
        if self.error is None:
            self.error = error
        self.stop()

    def take_error(self) -> Exception | None:
        """The exception for the consumer, once."""
        error, self.error = self.error, None
        return error

    def stop(self, *, now: bool = False) -> None:
        """Start no new call, and end those that have no request out (they cost nothing
        yet: waiting for the rate limiter, a retry, or another run's answer); with ``now``,
        end every call."""
        self.stopping = True
        self._now = self._now or now
        for call in self._calls:
            if self._now or not call.sent:
                call.scope.cancel()

    @contextmanager
    def call(self) -> Iterator[Running]:
        """One call's scope; the caller reads ``call.scope.cancelled_caught`` after it."""
        call = Running(self)
        if self._now:
            call.scope.cancel()
        self._calls.add(call)
        try:
            with call.scope:
                yield call
        finally:
            self._calls.discard(call)

    def listener(self, on_event: Callable[[Event], Any] | None) -> Callable[[Event], None] | None:
        """``on_event``, guarded: the first exception it raises stops the batch (and the
        callback is not called again); the call that was telling it goes on."""
        if on_event is None:
            return None
        broken = False

        def listen(event: Event) -> None:
            nonlocal broken
            if broken:
                return
            try:
                on_event(event)
            except Exception as exc:
                broken = True
                self.fail(exc)

        return listen


class Budget:
    """``max_credits``: calls in flight plus calls that may have been paid never exceed it."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.spent = 0
        self.reserved = 0
        self._changed = anyio.Condition()

    async def reserve(self) -> bool:
        """Hold a credit for the next call; False when none can ever come back."""
        if self.limit is None:
            return True
        async with self._changed:
            while self.spent + self.reserved >= self.limit:
                if self.reserved == 0:
                    return False
                await self._changed.wait()
            self.reserved += 1
        return True

    async def settle(self, paid: bool) -> None:
        """The call ended: its credit was spent, or comes back."""
        if self.limit is None:
            return
        async with self._changed:
            self.reserved -= 1
            self.spent += paid
            self._changed.notify_all()


class Puller:
    """Takes sources one at a time from an iterable or async iterable, numbering them.

    An exception from the iterable ends the input (as if it were exhausted) and goes to
    ``control``: the calls already started finish, and the consumer gets it after them.
    """

    def __init__(
        self, sources: Iterable[SourceLike] | AsyncIterable[SourceLike], control: Control
    ) -> None:
        self._sync: Iterator[SourceLike] | None = None
        self._async: AsyncIterator[SourceLike] | None = None
        if isinstance(sources, AsyncIterable):
            self._async = aiter(sources)
        else:
            self._sync = iter(sources)
        # Only an async iterator can be asked twice at once; next() on a sync one cannot.
        self._lock = anyio.Lock(fast_acquire=True) if self._async is not None else None
        self._control = control
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
            except Exception as exc:  # StopAsyncIteration too: the end of the input
                self._end(exc)
                return None
            return self._numbered(item)

    def _take_sync(self) -> tuple[int, SourceLike] | None:
        assert self._sync is not None
        if self.exhausted:
            return None
        try:
            item = next(self._sync)
        except Exception as exc:  # StopIteration too: the end of the input
            self._end(exc)
            return None
        return self._numbered(item)

    def _end(self, reason: Exception) -> None:
        """No more sources: the input is exhausted, or it raised (which stops the batch)."""
        self.exhausted = True
        if not isinstance(reason, StopIteration | StopAsyncIteration):
            self._control.fail(reason)

    def _numbered(self, item: SourceLike) -> tuple[int, SourceLike]:
        self._index += 1
        return self._index - 1, item
