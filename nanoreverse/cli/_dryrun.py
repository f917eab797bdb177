"""``analyze --dry-run``: what a run would do with each video, and nothing sent."""

from __future__ import annotations

import argparse
import collections

from .._errors import APIError
from .._store import Store, StoreKey
from .._store.identity import identify
from ._inputs import Item
from ._output import OutputFolder, suffix
from ._usage import EXIT_OK


async def plan_for(item: Item, store: Store, scope: str, locale: str, force: bool) -> str:
    """What a run would do with one video: ``refused: why``, ``stored``, ``claimed`` or ``pay``."""
    try:
        prepared = await item.source.prepare()
        identity = await identify(prepared, memo=store)
    except APIError as exc:
        return f"refused: {exc.message}"
    except OSError as exc:
        return f"refused: cannot read it ({exc.strerror})"
    status = None if force else await store.status(StoreKey(scope, identity, locale))
    return status or "pay"


async def dry_run(
    items: list[Item], folder: OutputFolder, store: Store, scope: str, args: argparse.Namespace
) -> int:
    counts: collections.Counter[str] = collections.Counter()
    for item in items:
        plan = await plan_for(item, store, scope, args.locale, args.force)
        kind = plan.partition(":")[0]
        counts[kind] += 1
        target = folder.path_for(item.stem, suffix(args.locale, ".md"))
        label = {"pay": "to pay", "claimed": "claimed"}.get(kind, kind)
        detail = f"  ({plan})" if kind == "refused" else ""
        print(f"{label:8}  {item.display}  ->  {target}{detail}")
    print(
        f"{counts['pay']} to pay (at most {counts['pay']} credits), {counts['stored']} stored "
        f"(free), {counts['claimed']} being analysed by another run, "
        f"{counts['refused']} refused before sending."
    )
    return EXIT_OK
