"""The output folder: atomic files, the manifest of finished work, and the failure log.

Every output is written to a temporary file in the same folder and renamed
into place, so a crash (even ``kill -9``) never leaves half a file. Only then
is the video added to ``manifest.jsonl``, an append-only log keyed by what the
video *is* (its sha256, or its normalised URL) and the locale: a re-run skips
finished work even if files were moved or renamed, and never pays for it twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import Any

MANIFEST = "manifest.jsonl"
FAILURES = "failures.jsonl"


class OutputFolder:
    """One ``--out`` folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._root_resolved = root.resolve()

    def path_for(self, stem: PurePosixPath, suffix: str) -> Path:
        """Where an output goes; refuses anything that would land outside the folder."""
        if stem.is_absolute() or ".." in stem.parts:
            raise ValueError(f"output name {stem} would leave the output folder")
        path = self.root.joinpath(*stem.parts).with_name(stem.name + suffix)
        if not path.resolve().is_relative_to(self._root_resolved):
            raise ValueError(f"output name {stem} would leave the output folder")
        return path

    def write(self, stem: PurePosixPath, suffix: str, text: str) -> Path:
        """Write atomically: a temporary file beside the target, fsynced, then renamed."""
        path = self.path_for(stem, suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        return path

    def sweep(self) -> int:
        """Delete temporary files a killed run left behind; returns how many."""
        swept = 0
        if self.root.is_dir():
            for stale in self.root.rglob(".*.tmp"):
                with contextlib.suppress(OSError):
                    stale.unlink()
                    swept += 1
        return swept

    def remove(self, stem: PurePosixPath, suffix: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.path_for(stem, suffix).unlink()

    # -- the logs -------------------------------------------------------------------------

    def _append(self, name: str, entry: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with (self.root / name).open("a", encoding="utf-8") as file:
            file.write(line)
            file.flush()
            os.fsync(file.fileno())

    def _read(self, name: str) -> list[dict[str, Any]]:
        path = self.root / name
        if not path.exists():
            return []
        entries = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line torn by a crash: that video was not finished
            if isinstance(entry, dict):
                entries.append(entry)
        return entries

    def finished(self) -> dict[str, dict[str, Any]]:
        """Manifest entries by ``key|locale``."""
        return {f"{e.get('key')}|{e.get('locale')}": e for e in self._read(MANIFEST)}

    def record_finished(self, key: str, locale: str, **details: Any) -> None:
        self._append(MANIFEST, {"key": key, "locale": locale, "finished": _now(), **details})

    def record_failure(self, key: str, locale: str, **details: Any) -> None:
        self._append(FAILURES, {"key": key, "locale": locale, "time": _now(), **details})

    def failures(self) -> list[dict[str, Any]]:
        return self._read(FAILURES)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
