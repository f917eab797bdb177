"""What a batch reports: each video's Result, the progress events, and running counts."""

from __future__ import annotations

import functools
from collections import deque
from dataclasses import dataclass, field
from typing import TypeAlias

from .._answer.shots import Analysis, parse_analysis
from .._errors import NanoReverseError, may_have_been_paid
from .._keys import StoreKey
from .._sources.kinds import SourceLike


@dataclass
class Result:
    """What became of one video of a batch.

    Attributes:
        source: The source as it was given.
        index: Its place in the input, from 0.
        locale: The answer's language.
        markdown: The answer; when interrupted, the text received before it broke off.
        error: Why it failed (None: it succeeded).
        attempts: Requests made for it (0: refused in preflight, or from the store).
        elapsed: Seconds from its start to its end.
        rate_limit_wait: Seconds of that spent waiting for the rate limiter.
        cached: No request was made for it: replayed from the store, or shared.
        stopped: Ended by ``results.stop(now=True)`` before its answer was complete.
        key: What names the answer in the client's store.
        store_error: The store could not keep this paid answer (it is still here).

    >>> async for result in results:                          # doctest: +SKIP
    ...     print(result.source, result.ok, result.paid, len(result.analysis.shots))
    """

    source: SourceLike
    index: int
    locale: str
    markdown: str = ""
    error: BaseException | None = None
    attempts: int = 0
    elapsed: float = 0.0
    rate_limit_wait: float = 0.0
    #: No request was made for it: replayed from the store, or shared with an identical call.
    cached: bool = False
    #: Ended by ``results.stop(now=True)`` before its answer was complete.
    stopped: bool = False
    #: What names the answer in the client's store (``AnalysisStream.key``).
    key: StoreKey | None = None
    #: The store could not keep this paid answer (``AnalysisStream.store_error``).
    store_error: NanoReverseError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def paid(self) -> bool:
        """Whether this video may have cost a credit: a request was made, and how it ended
        does not prove it unpaid (``nr.may_have_been_paid``, the rule the retries follow)."""
        return self.attempts > 0 and may_have_been_paid(self.error)

    @functools.cached_property
    def analysis(self) -> Analysis:
        """The answer parsed into shots (see :func:`nanoreverse.parse_analysis`), once."""
        return parse_analysis(self.markdown)


# -- progress events ------------------------------------------------------------------


@dataclass(frozen=True)
class _SourceEvent:
    """What every event about one source carries.

    Attributes:
        index: Its place in the input.
        source: The source as given.
    """

    index: int
    source: SourceLike


@dataclass(frozen=True)
class Queued(_SourceEvent):
    """Source number ``index`` (from 0) was taken from the input as ``source``, and is
    about to be analysed."""


@dataclass(frozen=True)
class Started(_SourceEvent):
    """A request for ``source`` (number ``index`` in the input) is going out.

    Attributes:
        attempt: Which attempt, from 1.
    """

    attempt: int


@dataclass(frozen=True)
class Retrying(_SourceEvent):
    """The last attempt for ``source`` (number ``index``) failed in a way that is safe to
    retry: nothing was charged.

    Attributes:
        error: Why the attempt failed (a 429, a 503, a request that never left).
        wait: Seconds until the next attempt.
    """

    error: NanoReverseError
    wait: float


@dataclass(frozen=True)
class RateLimited(_SourceEvent):
    """The call for ``source`` (number ``index``) waits for the client's rate limiter.

    Attributes:
        wait: Seconds it will wait (inf when unknown).
    """

    wait: float


@dataclass(frozen=True)
class Chunk(_SourceEvent):
    """A piece of the answer for ``source`` (number ``index``) arrived, for live displays.

    Attributes:
        text: The piece of Markdown.
    """

    text: str


@dataclass(frozen=True)
class Finished:
    """A video is done, well or not.

    Attributes:
        result: What became of it.
    """

    result: Result


Event: TypeAlias = Queued | Started | Retrying | RateLimited | Chunk | Finished


@dataclass
class BatchStats:
    """Running counts of a batch, for progress displays (``results.stats``).

    Attributes:
        queued: Sources taken from the input so far.
        in_flight: Calls started and not finished.
        succeeded: Videos with an answer.
        failed: Videos that failed.
        credits_spent: Calls that may have cost a credit (``nr.may_have_been_paid``).
        rate_limit_wait_until: When the rate limiter's current wait ends (monotonic clock).
        budget_exhausted: ``max_credits`` was reached: sources after it were not pulled.
        stopped_by: The error about the key or the account that stopped the batch.
        latencies: Recent calls' seconds, less their rate-limit waits (for ``eta``).
    """

    queued: int = 0
    in_flight: int = 0
    succeeded: int = 0
    failed: int = 0
    credits_spent: int = 0
    rate_limit_wait_until: float = 0.0
    budget_exhausted: bool = False
    #: The error about the key or the account that stopped the batch (``stop_on_account_error``).
    stopped_by: BaseException | None = None
    # Recent latencies only: a million-video batch must not grow this.
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=256), repr=False)

    @property
    def done(self) -> int:
        return self.succeeded + self.failed

    def count(self, result: Result) -> None:
        self.credits_spent += result.paid
        if result.ok:
            self.succeeded += 1
            self.latencies.append(result.elapsed - result.rate_limit_wait)
        else:
            self.failed += 1
