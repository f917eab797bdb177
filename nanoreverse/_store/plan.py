"""What a call would do now, found without sending anything: ``AsyncClient.plan``.

The same steps a call takes before it pays (preflight, what the video is, the store's
word on it), stopping short of the claim: a plan takes no claim and writes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from .._errors import NanoReverseError
from .._sources.kinds import Prepared, SourceLike
from .base import Store, StoreKey
from .identity import identify

Action = Literal["stored", "claimed", "pay", "refused"]


@dataclass(frozen=True)
class Plan:
    """What ``client.analyze(source)`` would do now, found without sending anything.

    ``action`` is ``"stored"`` (replayed free), ``"claimed"`` (another caller is paying
    for it; this one would wait and follow), ``"pay"`` (a call, one credit) or
    ``"refused"`` (preflight refused it: ``error`` says why, nothing would be sent).
    ``key`` names what the video is; calls with equal keys pay once between them.

    >>> plan = await client.plan("ad.mp4")                   # doctest: +SKIP
    >>> plan.action, plan.key.identity
    ('pay', 'sha256:9f2c…')
    """

    source: SourceLike
    action: Action
    key: StoreKey | None = None
    error: NanoReverseError | OSError | None = None


async def plan_call(
    source: SourceLike,
    prepare: Callable[[SourceLike], Awaitable[Prepared]],
    store: Store | None,
    scope: str,
    locale: str,
    refresh: bool,
) -> Plan:
    """The plan of one call; ``prepare`` is the client's preflight (key and source). The
    file's sha256 is read, not recalled from the store's memory: a plan writes nothing."""
    try:
        prepared = await prepare(source)
        key = StoreKey(scope, await identify(prepared), locale)
    except (NanoReverseError, OSError) as error:
        return Plan(source, "refused", error=error)
    if store is None or refresh:
        return Plan(source, "pay", key)
    return Plan(source, await store.status(key) or "pay", key)
