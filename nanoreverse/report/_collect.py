"""What an output folder holds: its finished analyses (from its store) and its failures."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from .. import SQLiteStore, Store
from ..cli._layout import FAILURES, STORE


class NotAnOutputFolder(Exception):
    """The folder was not written by ``nanoreverse analyze``."""


@dataclass(frozen=True)
class Video:
    """One analysed (or failed) video of an output folder."""

    identity: str
    locale: str
    source: str  # an absolute path, or the link
    markdown: str | None  # None: it failed
    error: str | None = None

    @property
    def is_link(self) -> bool:
        return self.source.startswith(("http://", "https://"))

    @property
    def name(self) -> str:
        return Path(self.source).name if not self.is_link else self.source

    @property
    def slug(self) -> str:
        stem = Path(self.source.split("?")[0]).stem or "video"
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)[:60]
        digest = hashlib.sha256(f"{self.identity}|{self.locale}".encode()).hexdigest()[:8]
        return f"{safe}-{self.locale}-{digest}"


async def collect(out: Path, store: Store | None = None) -> list[Video]:
    """Every video of the folder: finished ones from its store (``store``: the one the run
    used, as ``--store`` named it; else the folder's own SQLite file), then failed ones.

    >>> videos = await collect(Path("nanoreverse-out"))   # doctest: +SKIP
    """
    _check(out, own_store=store is None)
    if store is None:
        async with SQLiteStore(out / STORE) as own:
            videos = await _finished(own)
    else:
        videos = await _finished(store)
    return videos + _failed(out / FAILURES, {(v.source, v.locale) for v in videos})


async def _finished(store: Store) -> list[Video]:
    return [Video(a.identity, a.locale, a.source, a.markdown) async for a in store.answers()]


def _check(out: Path, *, own_store: bool) -> None:
    if not out.is_dir():
        raise NotAnOutputFolder(f"{out} is not a folder")
    if own_store and not (out / STORE).is_file():
        raise NotAnOutputFolder(
            f"{out} is not an output folder of `nanoreverse analyze` (it has no {STORE})"
        )


def _failed(path: Path, finished: set[tuple[str, str]]) -> list[Video]:
    """The videos of ``failures.jsonl`` that did not finish later, each once."""
    failed: dict[tuple[str, str], Video] = {}
    for entry in _failures(path):
        source, locale = str(entry.get("source", "")), str(entry.get("locale", ""))
        if source and (source, locale) not in finished:
            code = entry.get("errorCode") or entry.get("error") or "failed"
            # Older runs logged the message with its code in front: say the code once.
            message = str(entry.get("message", "")).removeprefix(f"[{code}] ")
            error = f"{code}: {message}"
            failed[(source, locale)] = Video("", locale, source, None, error)
    return list(failed.values())


def _failures(path: Path) -> list[dict[str, object]]:
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a torn last line
        if isinstance(entry, dict):
            entries.append(entry)
    return entries
