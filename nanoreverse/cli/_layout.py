"""What an output folder of ``nanoreverse analyze`` holds, named once: the command line
writes it, and ``report`` and ``export`` read it (from the store the run used)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .. import DEFAULT_LEASE

if TYPE_CHECKING:
    from .. import Store

#: The default store of a folder's finished analyses (``--store`` names another).
STORE = "analyses.sqlite"
#: One JSON line per failed attempt, for people to read.
FAILURES = "failures.jsonl"
#: Paid answers the store could not keep, until a later run puts them in it.
UNSTORED = "unstored.jsonl"
#: The storyboard's folder (``--report``, ``nanoreverse report``).
REPORT = "report"
#: The per-video exports' folder (``nanoreverse export`` without ``--to``).
EXPORTS = "exports"


def open_store(url: str | None, out: Path, *, lease: float = DEFAULT_LEASE) -> Store:
    """The store a ``--store`` URL names: ``redis://…`` (or ``rediss://``, ``unix://``),
    ``sqlite:///path`` or a plain path; by default ``analyses.sqlite`` in the output folder.

    >>> open_store(None, Path("nanoreverse-out"))   # doctest: +SKIP
    SQLiteStore('nanoreverse-out/analyses.sqlite')
    """
    from .. import RedisStore, SQLiteStore  # loaded when a command runs, not for --help

    if url is None:
        return SQLiteStore(out / STORE, lease=lease)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(url, lease=lease)
    return SQLiteStore(url.removeprefix("sqlite://"), lease=lease)
