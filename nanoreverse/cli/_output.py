"""The output folder: one file per input video, written atomically, and the failure log.

Every output is written to a temporary file in the same folder and renamed into place,
so a crash (even ``kill -9``) never leaves half a file. Which videos are finished is
the store's business (an SQLite file in the folder by default), not this folder's:
the outputs are what people read, and they can always be written again from the store.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import Any

from ._layout import FAILURES, STORE

__all__ = ["FAILURES", "STORE", "OutputFolder", "suffix"]

# A name no user gives a file, so that a sweep never deletes one of theirs...
_TEMP_PREFIX = ".nanoreverse-"
_TEMP_SUFFIX = ".tmp"
# ...and an age no live run's temporary file reaches (a write takes milliseconds).
_STALE_AFTER = 600.0


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it: put it straight back
    os.umask(mask)
    return mask


def suffix(locale: str, kind: str, default_locale: str = "en") -> str:
    """``.md`` for the default locale, ``.ja.md`` for another: outputs of different
    languages never share a file."""
    return kind if locale == default_locale else f".{locale}{kind}"


class OutputFolder:
    """One ``--out`` folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._root_resolved = root.resolve()

    def check_writable(self) -> None:
        """Raise OSError unless files can be written here: checked before the first call,
        so that a read-only or mistaken ``--out`` costs nothing."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX, dir=self.root)
        os.close(handle)
        os.unlink(probe)

    def path_for(self, stem: PurePosixPath, suffix: str) -> Path:
        """Where an output goes; refuses anything that would land outside the folder."""
        if stem.is_absolute() or ".." in stem.parts:
            raise ValueError(f"output name {stem} would leave the output folder")
        path = self.root.joinpath(*stem.parts).with_name(stem.name + suffix)
        if not path.resolve().is_relative_to(self._root_resolved):
            raise ValueError(f"output name {stem} would leave the output folder")
        return path

    def write(self, stem: PurePosixPath, suffix: str, text: str) -> Path:
        """Write atomically (a temporary file beside the target, fsynced, then renamed);
        a file that already holds exactly this text is left as it is."""
        path = self.path_for(stem, suffix)
        data = text.encode("utf-8")
        with contextlib.suppress(OSError):
            if path.stat().st_size == len(data) and path.read_bytes() == data:
                return path
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            prefix=f"{_TEMP_PREFIX}{path.name}.", suffix=_TEMP_SUFFIX, dir=path.parent
        )
        try:
            # mkstemp makes 0600; an output is an ordinary file of the user's.
            os.fchmod(handle, 0o666 & ~_umask())
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        return path

    def sweep(self, *, now: float | None = None) -> int:
        """Delete temporary files a killed run left behind; returns how many.

        Only this program's own temporary names, and only ones too old to belong to a
        run still going (two runs on one folder at once are allowed).
        """
        now = time.time() if now is None else now
        swept = 0
        if self.root.is_dir():
            for stale in self.root.rglob(f"{_TEMP_PREFIX}*{_TEMP_SUFFIX}"):
                with contextlib.suppress(OSError):
                    if now - stale.stat().st_mtime > _STALE_AFTER:
                        stale.unlink()
                        swept += 1
        return swept

    def remove(self, stem: PurePosixPath, suffix: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.path_for(stem, suffix).unlink()

    def record_failure(self, **details: Any) -> None:
        """Append one line to ``failures.jsonl`` (what people read; the store logs it too).

        The line goes out in one write (runs sharing the folder never interleave), after
        a newline when a killed run left the last line torn: a torn line stays one bad
        line, which readers skip, and never swallows this record.
        Raises OSError when the folder cannot be written (the caller reports it)."""
        self.root.mkdir(parents=True, exist_ok=True)
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **details}
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        fd = os.open(self.root / FAILURES, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
