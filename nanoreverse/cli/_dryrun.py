"""``analyze --dry-run``: what a run would do with each video, built on ``client.plan``:
nothing is sent, nothing is written, and each content is counted once, as a run pays."""

from __future__ import annotations

import argparse
import collections

import nanoreverse as nr

from ._inputs import Item
from ._output import OutputFolder, suffix
from ._usage import EXIT_OK, counted

LABELS = {"pay": "to pay", "stored": "stored", "claimed": "claimed", "refused": "refused"}


def _why(error: BaseException | None) -> str:
    if isinstance(error, nr.NanoReverseError):
        return error.message
    if isinstance(error, OSError):
        return f"cannot read it ({error.strerror or error})"
    return str(error)


async def dry_run(
    items: list[Item], folder: OutputFolder, client: nr.AsyncClient, args: argparse.Namespace
) -> int:
    counts: collections.Counter[str] = collections.Counter()
    first_of: dict[nr.StoreKey, str] = {}
    for item in items:
        plan = await client.plan(item.source, refresh=args.force)
        target = folder.path_for(item.stem, suffix(args.locale, ".md"))
        kind: str = plan.action
        detail = ""
        if plan.action == "refused":
            detail = f"  ({_why(plan.error)})"
        elif plan.key is not None and plan.key in first_of:
            kind, detail = "same", f"  (the same video as {first_of[plan.key]}: paid once)"
        elif plan.key is not None:
            first_of[plan.key] = item.display
        counts[kind] += 1
        print(f"{LABELS.get(kind, kind):8}  {item.display}  ->  {target}{detail}")
    to_pay = counts["pay"]
    print(
        f"{to_pay} to pay (at most {counted(to_pay, 'credit')}), {counts['stored']} stored "
        f"(free), {counts['same']} the same as another (free), {counts['claimed']} being "
        f"analysed by another run, {counts['refused']} refused before sending."
    )
    return EXIT_OK
