"""The command line when the disk or the store cannot write (#29): every paid answer is
kept somewhere, the screen says where without -v, and a re-run pays for none again."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from nanoreverse.testing import EmulatorProcess

from .helpers import CLIPS, need
from .test_cli import analyze


def videos(folder: Path, count: int, first: int = 0) -> Path:
    """``count`` different small MP4s (one clip, each with a byte of its own)."""
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        data = CLIPS[0].read_bytes() + bytes([first + index])
        (folder / f"v{index}.mp4").write_bytes(data)
    return folder


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real tmpfs of 1 MiB (root only): a disk that fills up mid-run."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        need("root, to mount a small tmpfs", "run the suite as root (CI does)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)])
    if done.returncode != 0:
        need("mount -t tmpfs", "a machine where root may mount a tmpfs")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def spares(out: Path) -> None:
    """Forget what an earlier test left in the temporary folder for this --out."""
    for stale in Path(tempfile.gettempdir()).glob("nanoreverse-unstored-*.jsonl"):
        with contextlib.suppress(OSError):
            stale.unlink()


def test_a_full_disk_loses_no_paid_answer_and_the_rerun_pays_for_none_again(
    emulator_process: EmulatorProcess, small_disk: Path, tmp_path: Path
) -> None:
    source = videos(tmp_path / "videos", 10)
    out = small_disk / "out"
    spares(out)
    filler = small_disk / "filler"
    with filler.open("wb") as handle:  # leave room for the store and a few answers only
        handle.write(b"\0" * (1024 * 1024 - 128 * 1024))
    first = analyze(emulator_process, str(source), "--out", str(out), "--concurrency", "2")
    assert first.returncode == 1, first.stderr
    paid = emulator_process.stats()["requests"]
    assert paid >= 1
    shown = " ".join(first.stderr.split())
    assert "Traceback" not in first.stderr
    # Said on screen, without -v: what was not stored or written, and where the text is.
    assert "could not be stored" in shown or "could not be written" in shown, shown
    if "could not be stored" in shown:  # while the store is still full, nothing is sent
        stuck = analyze(emulator_process, str(source), "--out", str(out))
        assert stuck.returncode == 2 and "nothing was sent" in " ".join(stuck.stderr.split())
        assert emulator_process.stats()["requests"] == paid
    filler.unlink()  # free the space, as the user would
    second = analyze(emulator_process, str(source), "--out", str(out))
    assert second.returncode == 0, second.stderr
    assert emulator_process.stats()["requests"] == 10  # each video paid once, in all
    assert len(list(out.glob("*.md"))) == 10


def test_a_store_of_an_older_schema_is_migrated_and_no_answer_is_paid_again(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    source = videos(tmp_path / "videos", 3)
    out = tmp_path / "out"
    assert analyze(emulator_process, str(source), "--out", str(out)).returncode == 0
    with contextlib.closing(sqlite3.connect(out / "analyses.sqlite")) as db:
        # Back to schema 1: no finished_by column, no version.
        db.executescript(
            "CREATE TABLE old AS SELECT scope, identity, locale, markdown, source, finished_at "
            "FROM answers; DROP TABLE answers; ALTER TABLE old RENAME TO answers; "
            "PRAGMA user_version = 0;"
        )
    again = analyze(emulator_process, str(source), "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert "3 from the store (free)" in again.stderr
    assert emulator_process.stats()["requests"] == 3


def test_a_file_name_that_is_not_utf8_is_paid_once(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    folder = tmp_path / "videos"
    folder.mkdir()
    (folder / os.fsdecode(b"caf\xe9.mp4")).write_bytes(CLIPS[0].read_bytes())
    out = tmp_path / "out"
    for _ in range(2):
        done = analyze(emulator_process, str(folder), "--out", str(out))
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert emulator_process.stats()["requests"] == 1


def test_a_subfolder_of_out_that_links_elsewhere_costs_no_other_answer(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    source = tmp_path / "videos"
    videos(source / "inside", 2)
    videos(source / "fine", 2, first=2)
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (out / "inside").symlink_to(tmp_path / "elsewhere")  # outputs here would leave --out
    done = analyze(emulator_process, str(source), "--out", str(out), "--concurrency", "4")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert sorted(p.name for p in (out / "fine").glob("*.md")) == ["v0.md", "v1.md"]
    assert "2 answers could not be written" in " ".join(done.stderr.split())
    assert not list((tmp_path / "elsewhere").iterdir())
    assert emulator_process.stats()["requests"] == 4


@pytest.mark.parametrize("command", ["export", "report", "dry-run"])
def test_a_corrupt_store_is_one_line_for_every_command(tmp_path: Path, command: str) -> None:
    from .test_cli import run

    out = tmp_path / "out"
    out.mkdir()
    (out / "analyses.sqlite").write_bytes(b"this is no database, only text " * 200)
    if command == "export":
        done = run("export", str(out), "--csv", "-")
    elif command == "report":
        done = run("report", str(out))
    else:
        done = run("analyze", str(CLIPS[0]), "--out", str(out), "--dry-run")
    assert done.returncode in (1, 2) and "Traceback" not in done.stderr, done.stderr
    assert "analyses.sqlite" in done.stderr
