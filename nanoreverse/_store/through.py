"""One call through a store: pay once per video, across tasks, processes and machines.

``open_through_store`` looks the video up by what it is (``identify``) and the locale:
- stored: the answer is replayed, no request (``stream.cached``);
- claimed by another process: wait for its answer, polling, instead of paying again;
  a holder that died stops renewing, its lease runs out, and the claim is taken over;
- otherwise the caller claims it, makes the call, and stores the whole answer.

Within one process identical calls share one request: every caller, the first one too,
follows it live, chunk by chunk (:class:`Shared`), while a task of the client's own reads
the paid answer to its end (:func:`_pump`). So one caller going away (a web request
whose browser left) never cuts the others short, and an answer nobody reads any more is
still stored: it is paid for. Only an answer read to its end is stored; an error or a
broken-off answer is logged in the store and never served as a hit.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import uuid
import weakref
from collections.abc import Awaitable, Callable

import anyio

from .._clock import REAL_CLOCK
from .._config import MAX_ANSWER_CHARS
from .._errors import (
    APIError,
    InvalidInputError,
    NanoReverseError,
    StoreError,
    StreamInterruptedError,
)
from .._sources.kinds import VideoFile, as_source
from .._transport.answers import Answer, ReplayedAnswer
from .._transport.calls import Call, CallHooks, CallRecord
from .._transport.errors import FAILURES, answer_error
from .._transport.stream import too_long
from . import Claimed, FailedAttempt, Held, Hit, Store, StoreKey
from .follow import Follower, InFlight, Shared
from .identity import identify

logger = logging.getLogger("nanoreverse")

# Polling for another process's answer: quick at first, then no more than twice a second.
_FIRST_POLL, _MAX_POLL = 0.02, 0.5


class Claim:
    """The right to pay for one key, renewed in the background while it is held."""

    def __init__(self, store: Store, key: StoreKey, owner: str, source: str) -> None:
        self.store, self.key, self.owner, self.source = store, key, owner, source
        self._renewer: asyncio.Task[None] | None = None

    def keep_alive(self, holder: object) -> None:
        """Renew the lease every third of it while ``holder`` lives (a dropped, never-closed
        stream stops renewing, so its claim runs out instead of blocking others forever)."""
        self._renewer = asyncio.get_running_loop().create_task(
            _renew(self.store, self.key, self.owner, weakref.ref(holder))
        )

    async def settle(
        self, *, text: str, complete: bool, error: BaseException | None
    ) -> StoreError | None:
        """Store the answer, or log the failed attempt; returns why a whole answer could
        not be stored. A store that fails here never raises: the call is made, so its
        answer (or its own error) is what the caller must get, not a StoreError."""
        if self._renewer is not None:
            self._renewer.cancel()
        try:
            if complete:
                await self.store.finish(self.key, self.owner, text, source=self.source)
                return None
            code = error.code if isinstance(error, APIError) else None
            message = str(error) if error is not None else "closed before the end of the answer"
            attempt = FailedAttempt(code, message, text)
            await self.store.abandon(self.key, self.owner, attempt, source=self.source)
        except Exception as exc:  # any failure of any store, ours or a user's
            failure = exc if isinstance(exc, StoreError) else StoreError(f"{exc!r}")
            if complete:
                logger.warning(
                    "the answer for %s was received but could not be stored, so a later "
                    "call may pay for it again: %s",
                    self.source,
                    failure,
                )
                return failure
            logger.warning("the failed call for %s could not be logged: %s", self.source, failure)
        return None


async def _renew(store: Store, key: StoreKey, owner: str, holder: weakref.ref[object]) -> None:
    while True:
        # Real time, whatever the client's clock: the store measures the lease (a test's
        # instant clock would make this loop renew without pause).
        await REAL_CLOCK.sleep(store.lease / 3)
        if holder() is None:
            return
        try:
            if not await store.renew(key, owner):
                logger.warning("the claim on %s lapsed and was taken over", key.identity)
        except Exception as exc:  # a store gone away mid-answer: the answer still counts
            logger.warning("could not renew the claim on %s: %s", key.identity, exc)


async def _pump(
    inner: Answer,
    claim: Claim,
    shared: Shared,
    forget: Callable[[], None],
    record: CallRecord,
    failed: dict[StoreKey, NanoReverseError] | None,
) -> None:
    """Read the paid answer to its end into ``shared``, whoever still follows it, then store
    it (or log how it ended). Cancelled only when the client closes."""
    complete, error, chars = False, None, 0
    try:
        while True:
            try:
                text = await inner.read()
            except FAILURES as exc:
                error = answer_error(exc, shared.text())
                break
            if not text:
                complete = bool(shared.parts)  # an empty 200 is no answer: never stored
                break
            chars += len(text)
            if chars > MAX_ANSWER_CHARS:
                error = too_long(shared.text())
                break
            shared.push(text)
    except BaseException as exc:
        error = StreamInterruptedError(
            f"the client was closed before the answer ended ({type(exc).__name__})",
            partial_text=shared.text(),
        )
        logger.warning("the answer for %s was cut off: %s", claim.source, error)
        raise
    finally:
        forget()
        if failed is not None and isinstance(error, NanoReverseError):
            failed[claim.key] = error  # paid, perhaps: the batch sends this content no more
        with anyio.CancelScope(shield=True):  # the claim must be settled, or others wait
            text = shared.text()
            await inner.close(complete=complete, text=text, error=error)
            record.store_error = await claim.settle(text=text, complete=complete, error=error)
        shared.end(None if complete else error)


def _where(source: object) -> str:
    """Where the video was found, as the store records it: a file's absolute path (so that a
    report made from another folder finds it), or the link."""
    found = as_source(source)  # type: ignore[arg-type]
    return str(found.path.resolve()) if isinstance(found, VideoFile) else str(found)


async def _key(store: Store, scope: str, call: Call, refresh: bool) -> StoreKey:
    try:
        identity = await identify(call.prepared, memo=store, reread=refresh, clock=call.clock)
    except OSError as exc:
        reason = f"cannot read {call.source}: {exc.strerror}"
        raise InvalidInputError(reason, preflight=True) from None
    return StoreKey(scope, identity, call.locale)


async def open_through_store(
    store: Store,
    scope: str,
    in_flight: InFlight,
    call: Call,
    refresh: bool,
    send: Callable[[], Awaitable[Answer]],
    hooks: CallHooks | None = None,
) -> Answer:
    """The answer for ``call``: stored, followed, or paid for (``send``) and then stored.
    In a batch (``hooks.failed``), a content whose call failed is not sent again."""
    key = call.record.key = await _key(store, scope, call, refresh)
    failed = hooks.failed if hooks is not None else None
    if failed is not None and key in failed:
        call.record.cached = True  # no request of its own: the content's one call failed
        raise copy.copy(failed[key])
    shared_calls = in_flight.calls
    shared = shared_calls.get(key)
    if shared is not None:
        await shared.wait_opened()
        call.record.cached = True  # no request of its own: it follows the identical call live
        return Follower(shared)
    shared = shared_calls[key] = Shared()  # no await since the look-up: no race in-process

    def forget() -> None:
        if shared_calls.get(key) is shared:
            del shared_calls[key]

    try:
        owner = uuid.uuid4().hex
        markdown = await _wait_for_claim(store, key, owner, refresh)
        if markdown is not None:
            forget()
            shared.open()
            shared.push(markdown)
            shared.end(None)
            call.record.cached = True
            return ReplayedAnswer(markdown)
        claim = Claim(store, key, owner, _where(call.source))
        claim.keep_alive(shared)  # renewed while the answer is read (the pump holds it)
        try:
            inner = await send()
        except BaseException as exc:
            if failed is not None and isinstance(exc, NanoReverseError):
                failed[key] = exc
            with anyio.CancelScope(shield=True):
                await claim.settle(text="", complete=False, error=exc)
            raise
    except BaseException as exc:
        forget()
        shared.end(exc)
        raise
    shared.open()
    in_flight.start(_pump(inner, claim, shared, forget, call.record, failed))
    return Follower(shared)


async def _wait_for_claim(store: Store, key: StoreKey, owner: str, refresh: bool) -> str | None:
    """The stored answer, or None once ``owner`` holds the claim."""
    poll = _FIRST_POLL
    while True:
        found = await store.lookup(key, owner, refresh=refresh)
        if isinstance(found, Hit) and found.markdown.strip():
            return found.markdown
        if isinstance(found, Hit):  # an empty answer an older release stored: not served
            refresh = True
            continue
        if isinstance(found, Claimed):
            return None
        assert isinstance(found, Held)
        # Another process is paying for it: its answer (or its lease's end) comes first.
        await REAL_CLOCK.sleep(min(poll, max(found.retry_in, 0.0) + 0.001))  # the store's time
        poll = min(poll * 1.5, _MAX_POLL)
        refresh = False  # whoever held it has just asked the API: their answer is fresh
