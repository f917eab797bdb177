"""What an output folder of ``nanoreverse analyze`` holds, named once: the command line
writes it, and ``report`` and ``export`` read it (from the store the run used)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from .. import DEFAULT_LEASE

if TYPE_CHECKING:
    from .. import Store

#: The default store of a folder's finished analyses (``--store`` names another).
STORE = "analyses.sqlite"
#: One JSON line per failed attempt, for people to read.
FAILURES = "failures.jsonl"
#: Whose answers the folder holds: one API key's real ones, or the emulator's made-up ones.
OWNER = ".nanoreverse"  # JSON, but no .json: a glob of the outputs must not find it
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


def check_owner(root: Path, scope: str, *, made_up: bool, mix: bool) -> None:
    """One output folder holds one key's real answers or the emulator's made-up ones, never
    both, unless ``--mix`` says so (then the folder is marked mixed for good). A folder
    of an older release, with no owner yet, takes this run's."""
    from ._usage import UsageError  # the layout itself stays free of the commands

    path = root / OWNER
    mine: dict[str, object] = {"scope": scope, "made_up": made_up}
    try:
        theirs = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        theirs = None
    if not isinstance(theirs, dict):
        theirs = None
    same = theirs is not None and {k: theirs.get(k) for k in mine} == mine
    mixed = theirs is not None and (bool(theirs.get("mixed")) or not same)
    if theirs is not None and not same and not theirs.get("mixed") and not mix:
        if theirs.get("made_up") != made_up:
            kind = "made-up answers of the emulator" if theirs.get("made_up") else "real answers"
        else:
            kind = "answers made with another API key"
        raise UsageError(
            f"{root} holds {kind}; this run's would be mixed in with them (and exported and "
            "reported together). Use another --out, or add --mix to mix them knowingly."
        )
    record = mine | {"mixed": True} if mixed else mine
    if record != theirs:
        path.write_text(json.dumps(record) + "\n", encoding="utf-8")
