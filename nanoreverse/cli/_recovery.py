"""Paid answers the store could not keep, kept in the output folder until it can.

When the store refuses an answer (disk full, an old or broken store, Redis gone), the
answer is written to ``OUT/unstored.jsonl`` beside its outputs, one JSON line each with
what names it in the store; when the output folder's disk is full too, to a file named
after the folder in the system's temporary folder. The next run puts every line back
into the store before it starts, free, and keeps only the lines the store still refuses.
Nothing here is ever paid for twice: a line is dropped only once the store has it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import tempfile
from pathlib import Path

from rich.console import Console

import nanoreverse as nr

from ._layout import UNSTORED
from ._tally import Tally
from ._usage import UsageError, counted

_OWNER = "nanoreverse-recovery"  # no live claim has this owner: finishing ends none


def places(folder: Path) -> tuple[Path, Path]:
    """Where a folder's unstored answers are kept: in it, else in the temporary folder."""
    name = str(folder.resolve()).encode("utf-8", "surrogateescape")
    spare = f"nanoreverse-unstored-{hashlib.sha256(name).hexdigest()[:12]}.jsonl"
    return folder / UNSTORED, Path(tempfile.gettempdir()) / spare


def keep(folder: Path, key: nr.StoreKey, source: str, markdown: str) -> Path:
    """Append one paid answer to the recovery file (or its spare, when the folder's disk is
    full); returns where it went. Raises OSError when neither could be written."""
    entry = {"scope": key.scope, "identity": key.identity, "locale": key.locale}
    entry |= {"source": source, "markdown": markdown}
    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8", "surrogateescape")
    failure: OSError | None = None
    for path in places(folder):
        try:
            _append(path, line)
            return path
        except OSError as exc:
            failure = exc
    assert failure is not None
    raise failure


def _append(path: Path, line: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        if os.write(fd, line) != len(line):
            raise OSError(errno.ENOSPC, "the line was written only in part")
        os.fsync(fd)
    finally:
        os.close(fd)


async def recover(folder: Path, store: nr.Store) -> tuple[int, int]:
    """Put the recovery files' answers into ``store``; returns (recovered, still unstored)."""
    recovered = left = 0
    for path in places(folder):
        done, kept = await _recover(path, store)
        recovered, left = recovered + done, left + kept
    return recovered, left


def _lines(path: Path) -> list[str]:
    try:
        return path.read_bytes().decode("utf-8", "surrogateescape").splitlines()
    except FileNotFoundError:
        return []


def _rewrite(path: Path, kept: list[str]) -> None:
    """Keep only the lines the store still refuses (atomically), or drop the file."""
    if kept:
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(("\n".join(kept) + "\n").encode("utf-8", "surrogateescape"))
        temporary.replace(path)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


async def _recover(path: Path, store: nr.Store) -> tuple[int, int]:
    lines = _lines(path)
    if not lines:
        return 0, 0
    kept: list[str] = []
    recovered = 0
    for line in lines:
        try:
            entry = json.loads(line)
            key = nr.StoreKey(entry["scope"], entry["identity"], entry["locale"])
            markdown, source = str(entry["markdown"]), str(entry["source"])
        except (ValueError, KeyError, TypeError):
            continue  # a torn last line: what it held was written whole elsewhere
        try:
            await store.finish(key, _OWNER, markdown, source=source)
            recovered += 1
        except nr.StoreError:
            kept.append(line)
    _rewrite(path, kept)
    return recovered, len(kept)


def keep_unstored(root: Path, display: str, result: nr.Result, tally: Tally) -> None:
    """A paid answer the store refused: into the recovery file, which the next run puts
    into the store, free. Where even that cannot be written, the summary says so."""
    reason = f"{display}: {result.store_error}"
    if result.key is None:
        tally.lost.append(reason)
        return
    try:
        where = keep(root, result.key, display, result.markdown)
    except OSError as exc:
        tally.lost.append(f"{reason}; nor could {UNSTORED} be written: {exc.strerror or exc}")
        return
    tally.unstored.append(f"{reason} (text kept in {where})")


async def recover_into(root: Path, store: nr.Store, err: Console) -> None:
    """Answers an earlier run paid for but could not store go into the store first, free.
    While the store still refuses some, nothing is sent: a call for one of them would pay
    for it again."""
    try:
        recovered, left = await recover(root, store)
    except (nr.NanoReverseError, OSError) as exc:
        raise UsageError(f"could not read the paid answers kept in {UNSTORED}: {exc}") from None
    if recovered:
        err.print(
            f"{counted(recovered, 'paid answer')} from an earlier run put into the store, free.",
            markup=False,
        )
    if left:
        kept = " or ".join(str(path) for path in places(root) if path.exists())
        raise UsageError(
            f"{counted(left, 'paid answer')} from an earlier run could still not be put into "
            f"the store (kept in {kept}); nothing was sent, so none is paid for twice. Fix the "
            "store (free space, a writable file, Redis up), then run again."
        )
