"""What one call carries through the layers: its source as preflight left it, the record
of how it goes, and the hooks a batch listens with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .._clock import REAL_CLOCK, Clock
from .._errors import NanoReverseError
from .._keys import StoreKey
from .._sources.kinds import Prepared


@dataclass
class CallHooks:
    """What a batch wants to hear about one call while it is being opened."""

    on_attempt: Callable[[int], None] | None = None
    on_retry: Callable[[NanoReverseError, float], None] | None = None
    on_rate_wait: Callable[[float], None] | None = None
    #: A request is about to go out (the rate limiter let it through).
    on_send: Callable[[], None] | None = None
    #: The batch's contents whose call failed: a later path of one of them is given the
    #: same error and sends nothing (one content, one call per batch).
    failed: dict[StoreKey, NanoReverseError] | None = None


NO_HOOKS = CallHooks()


@dataclass
class CallRecord:
    """How one call went, as it goes. The client creates one per call; the parts of the
    call write their own fields, each one field: the retry loop ``attempts`` (``call.py``),
    the request ``rate_limit_wait`` (``attempt.py``), the store ``key``, ``cached`` and
    ``store_error`` (``_store/through.py``). The stream only reads it (``stream.attempts``
    …), and so does a batch."""

    #: Requests made for this answer (1 when the first one succeeded; 0 when none was).
    attempts: int = 0
    #: Seconds spent waiting for the client's rate limiter.
    rate_limit_wait: float = 0.0
    #: No request was made: the answer was replayed from the store, or followed live.
    cached: bool = False
    #: What names the answer in the client's store (None: no store).
    key: StoreKey | None = None
    #: The store could not keep this call's paid answer (a later call may pay again).
    store_error: NanoReverseError | None = None


class CallFacts:
    """How a call went, read from its record: the same properties on the async stream and
    the blocking one (which shares the async stream's record, so both read live)."""

    _record: CallRecord

    @property
    def attempts(self) -> int:
        """How many requests were made for this answer (1 when the first one succeeded)."""
        return self._record.attempts

    @property
    def rate_limit_wait(self) -> float:
        """Seconds spent waiting for the client's rate limiter."""
        return self._record.rate_limit_wait

    @property
    def cached(self) -> bool:
        """True when no request was made for it: replayed from the store, or shared."""
        return self._record.cached

    @property
    def key(self) -> StoreKey | None:
        """What names this answer in the client's store (None without a store, or before
        the call is opened): equal keys are one paid answer.

        >>> stream.key.identity                                  # doctest: +SKIP
        'youtube:W-15-UmGP5s'
        """
        return self._record.key

    @property
    def store_error(self) -> NanoReverseError | None:
        """Why the store could not keep this paid answer (disk full, an old schema, Redis
        gone), else None. The answer itself is whole: keep it elsewhere, or a later call
        pays for it again.

        >>> if stream.store_error:                                # doctest: +SKIP
        ...     Path("unstored.md").write_text(stream.received_text)
        """
        return self._record.store_error


@dataclass(frozen=True)
class Call:
    """One call as the client opens it: what to send, where it records how it went, and
    the client's clock (its wall time judges whether a file has settled: ``identity.py``)."""

    source: object
    locale: str
    prepared: Prepared
    record: CallRecord
    clock: Clock = REAL_CLOCK
