"""Answers already in the output folder while its store holds none: taken back, free.

A store that lost everything (a zero-length ``analyses.sqlite`` left by a crash or a bad
copy, a new ``--store`` pointed at an old folder) knows no answer, while the folder
still holds them as Markdown, and the next run used to pay for every video again,
saying nothing. Now, when the store holds no answer at all, each video whose output is
there, not empty, and newer than the video file is put back into the store from its
output, and the run says so. ``--force`` asks the API again instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

import nanoreverse as nr

from ._inputs import Item
from ._output import suffix

_OWNER = "nanoreverse-adopted"  # no live claim has this owner: finishing ends none


async def adopt_outputs(
    client: nr.AsyncClient,
    store: nr.Store,
    folder: Path,
    items: Sequence[Item],
    locale: str,
    err: Console,
) -> int:
    """Put the outputs of ``items`` back into an empty ``store``; returns how many."""
    async for _ in store.answers(None):
        return 0  # the store knows answers: it is not the one that lost them
    adopted = 0
    for item in items:
        output = folder / f"{item.stem}{suffix(locale, '.md')}"
        found = _older_answer(output, item.source)
        if found is None:
            continue
        plan = await client.plan(item.source, locale=locale)
        if plan.action != "pay" or plan.key is None:
            continue
        markdown, where = found
        await store.finish(plan.key, _OWNER, markdown, source=where)
        adopted += 1
    if adopted:
        err.print(
            f"The store had no answers while {folder} held {adopted} from an earlier run: "
            "they were put back in the store, free, instead of being paid again "
            "(--force asks the API again).",
            markup=False,
        )
    return adopted


def _older_answer(output: Path, source: nr.Source) -> tuple[str, str] | None:
    """The answer in ``output``, and where its video is as a store records it, if the
    output is there, not empty, and newer than a file source (a few small reads, once,
    before the batch)."""
    try:
        written = output.stat()
        if written.st_size == 0:
            return None
        where = str(source)
        if isinstance(source, nr.VideoFile):
            video = Path(source.path).resolve()
            if video.stat().st_mtime > written.st_mtime:
                return None  # the video changed after its answer was written
            where = str(video)
        return output.read_text(encoding="utf-8", errors="surrogateescape"), where
    except OSError:
        return None
