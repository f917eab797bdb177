"""``nanoreverse export``: every finished analysis of an output folder's store, as one CSV."""

from __future__ import annotations

import contextlib
import csv
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from rich.console import Console

from .._shots import parse_analysis
from .._store import Store, StoredAnswer

CSV_FIELDS = [
    "video",
    "locale",
    "shot",
    "framing",
    "movement",
    "description",
    "audio",
    "duration",
    "duration_seconds",
]


def _rows(answer: StoredAnswer) -> Iterator[dict[str, Any]]:
    for shot in parse_analysis(answer.markdown).shots:
        yield {
            "video": answer.source,
            "locale": answer.locale,
            "shot": shot.number,
            "framing": shot.framing,
            "movement": shot.movement,
            "description": shot.description,
            "audio": shot.audio,
            "duration": shot.duration,
            "duration_seconds": shot.duration_seconds,
        }


@contextlib.contextmanager
def _target(target: str) -> Iterator[IO[str]]:
    if target == "-":
        yield sys.stdout
        return
    with Path(target).open("w", encoding="utf-8", newline="") as handle:
        yield handle


async def export_csv(store: Store, target: str, err: Console) -> int:
    """Write the shots of every answer in ``store`` to ``target`` (``-``: stdout).

    Returns how many videos were exported."""
    videos = 0
    async with store:
        with _target(target) as handle:
            writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
            writer.writeheader()
            shots = 0
            async for answer in store.answers(None):
                videos += 1
                for row in _rows(answer):
                    writer.writerow(row)
                    shots += 1
    err.print(f"{shots} shots from {videos} videos written to {target}", markup=False)
    return videos
