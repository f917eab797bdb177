"""What a store of analyses is: finished answers by what the video is, and claims on them.

A store keeps three things per key (the API key's scope, the video's identity, the
locale): the finished Markdown, a *claim* (who is paying for it now, until when), and a
log of failed or interrupted attempts. One call goes: ``lookup`` (a hit, a fresh claim,
or a claim held elsewhere), then for a claim ``renew`` while the answer streams and
``finish`` (the whole answer) or ``abandon`` (an error, or partial text never served).
Every decision that two processes could race on is one atomic step of the backend.

A store on one machine also remembers what each local file is (its sha256), beside the
file's stamp, so that a file named before is not read again (``_store/identity.py``).
"""

from __future__ import annotations

import abc
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

from .._closing import AsyncCloses
from .._config import DEFAULT_LEASE as DEFAULT_LEASE
from .._keys import StoreKey as StoreKey
from .._keys import scope_of as scope_of
from .._sources.fileio import Stamp


@dataclass(frozen=True)
class Hit:
    """``Store.lookup`` found the finished answer: it is replayed, and nothing is paid.

    >>> nr.Hit("| # | Shot |").markdown
    '| # | Shot |'
    """

    markdown: str


@dataclass(frozen=True)
class Claimed:
    """``Store.lookup`` found no answer and gave the caller the claim: it makes the call,
    renews the claim while the answer streams, then finishes or abandons it."""


@dataclass(frozen=True)
class Held:
    """Another caller holds the claim; look again in ``retry_in`` seconds at the latest.

    >>> nr.Held(retry_in=12.5).retry_in
    12.5
    """

    retry_in: float


class FailedAttempt(NamedTuple):
    """A failed or interrupted call, as ``Store.abandon`` logs it and ``Store.attempts``
    lists it.

    Attributes:
        code: The API's ``errorCode``, if the failure was the API's refusal.
        message: What went wrong.
        partial: The text received before it broke off (logged, never served).

    >>> nr.FailedAttempt("VIDEO_PROCESSING_FAILED", "could not analyse").partial
    ''
    """

    code: str | None
    message: str
    partial: str = ""


#: What ``Store.lookup`` answers: ``Hit``, ``Claimed`` or ``Held``.
Lookup = Hit | Claimed | Held


@dataclass(frozen=True)
class StoredAnswer:
    """A finished answer, as listed by ``Store.answers``.

    Attributes:
        identity: What the video is (``sha256:…``, ``youtube:ID``, ``url:…``).
        locale: The answer's language.
        source: Where the video was: a file's absolute path, or the link.
        markdown: The whole answer.
        finished_at: When it was stored (Unix time).

    >>> async for answer in store.answers():            # doctest: +SKIP
    ...     print(answer.source, answer.locale, len(answer.markdown))
    """

    identity: str
    locale: str
    source: str
    markdown: str
    finished_at: float


class Store(AsyncCloses, abc.ABC):
    """A store of finished analyses shared by calls, processes and machines.

    Backends: ``nr.SQLiteStore`` (one machine) and ``nr.RedisStore`` (several). A store
    of your own subclasses this with public names only (``StoreKey``, ``Hit``,
    ``Claimed``, ``Held``, ``StoredAnswer``, ``FailedAttempt``); ``examples/memory_store.py``
    keeps them in a dict, and the suite runs it. Each method that decides something two
    callers could race on must be one atomic step of the backend.

    Args:
        lease: Seconds a claim holds others off without being renewed (its holder died):
            above 0, at most a day.

    >>> client = nr.AsyncClient(store=MemoryStore())        # doctest: +SKIP
    """

    #: Seconds a claim holds others off without being renewed (its holder died).
    lease: float = DEFAULT_LEASE

    def __init__(self, *, lease: float = DEFAULT_LEASE) -> None:
        self.lease = check_lease(lease)

    @abc.abstractmethod
    async def lookup(self, key: StoreKey, owner: str, *, refresh: bool = False) -> Lookup:
        """The answer, or a claim for ``owner``, or how long another holder has left.
        ``refresh`` ignores a stored answer (the caller means to replace it)."""

    @abc.abstractmethod
    async def renew(self, key: StoreKey, owner: str) -> bool:
        """Extend ``owner``'s claim by a lease; False when it is no longer theirs."""

    @abc.abstractmethod
    async def finish(self, key: StoreKey, owner: str, markdown: str, *, source: str) -> None:
        """Store the whole answer and drop ``owner``'s claim."""

    @abc.abstractmethod
    async def abandon(
        self, key: StoreKey, owner: str, attempt: FailedAttempt, *, source: str
    ) -> None:
        """Drop ``owner``'s claim and log the failed ``attempt`` (its partial text is
        never served)."""

    @abc.abstractmethod
    async def status(self, key: StoreKey) -> Literal["stored", "claimed"] | None:
        """Whether the answer is stored, being paid for elsewhere, or neither."""

    @abc.abstractmethod
    def answers(self, scope: str | None = None) -> AsyncIterator[StoredAnswer]:
        """Every finished answer of a scope (None: of every scope)."""

    @abc.abstractmethod
    async def attempts(self, key: StoreKey) -> list[FailedAttempt]:
        """The failed or interrupted attempts logged for a key, oldest first."""

    async def recall_identity(self, path: Path, stamp: Stamp) -> str | None:
        """What the file at ``path`` (absolute) was named when it had this very stamp, if
        remembered. This one remembers nothing: a store shared between machines could not
        tell one machine's file from another's with the same name and stamp."""
        return None

    async def remember_identity(self, path: Path, stamp: Stamp, identity: str) -> None:
        """Remember what the file at ``path`` is while it keeps ``stamp``."""
        return None  # as recall_identity says

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Close the connection; the store connects again if used after this."""


def storable(text: str) -> str:
    """Text any backend can keep: a file name that is not UTF-8 (read with
    surrogateescape, as Python reads names) has its stray bytes written as ``\\xNN``.

    >>> storable(os.fsdecode(b"caf\\xe9.mp4"))
    'caf\\xe9.mp4'
    """
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def check_lease(lease: float) -> float:
    """A claim's lease: finite (an infinite one left by a killed run would block every
    later run for ever) and above zero."""
    if isinstance(lease, bool) or not isinstance(lease, int | float):
        raise TypeError(f"lease must be a number of seconds, got {lease!r}")
    if not math.isfinite(lease) or not 0 < lease <= MAX_LEASE:
        raise ValueError(
            f"lease must be a number of seconds above 0 and at most {MAX_LEASE:g}, got {lease!r}"
        )
    return float(lease)


#: The longest lease accepted: a day. A killed run's claim holds others off that long.
MAX_LEASE = 86_400.0
