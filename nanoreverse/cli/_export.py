"""``nanoreverse export``: the finished analyses of an output folder's store, as one CSV
and as a file per video in editors' formats (SRT, WebVTT, CMX 3600 EDL, OTIO)."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

from rich.console import Console

from .. import (
    Shot,
    Store,
    StoredAnswer,
    parse_analysis,
    shot_ranges,
    snap_to_cuts,
    to_edl,
    to_otio,
    to_srt,
    to_vtt,
)
from ._inputs import safe_part, safe_stem
from ._output import OutputFolder, suffix
from ._usage import UsageError

#: Frames per second for a link, or a file whose rate cannot be read.
NOMINAL_FPS = 25.0
FORMATS = ("srt", "vtt", "edl", "otio")

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
    "made_up",
]

MADE_UP_NOTE = "Made up by the nanoreverse emulator: not an analysis of this video"


def _cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text: one starting with = + - @ (or a tab or a
    carriage return) would be run as a formula, so it is written after a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _rows(answer: StoredAnswer) -> Iterator[dict[str, Any]]:
    analysis = parse_analysis(answer.markdown)
    for shot in analysis.shots:
        row = {
            "video": answer.source,
            "locale": answer.locale,
            "shot": shot.number,
            "framing": shot.framing,
            "movement": shot.movement,
            "description": shot.description,
            "audio": shot.audio,
            "duration": shot.duration,
            "duration_seconds": shot.duration_seconds,
            "made_up": analysis.made_up,
        }
        yield {name: _cell(value) for name, value in row.items()}


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


def _is_link(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _local_file(source: str) -> Path | None:
    """The file a stored source names, if it is one that exists here (not a link)."""
    if _is_link(source):
        return None
    path = Path(source)
    return path if path.is_file() else None


def _probe(source: str) -> tuple[float | None, float | None]:
    """A local file's (length in seconds, frames per second), when PyAV (the ``report``
    extra) can read them; (None, None) for a link or an unreadable file."""
    if _local_file(source) is None:
        return None, None
    try:
        import av
    except ImportError:
        return None, None
    try:
        with av.open(source) as container:
            stream = container.streams.video[0]
            rate = float(stream.average_rate) if stream.average_rate else None
            length = container.duration / av.time_base if container.duration else None
            return (float(length) if length else None), rate
    except (av.FFmpegError, IndexError, OSError):
        return None, None


def _common_folder(answers: list[StoredAnswer]) -> str | None:
    """The folder all the local files are under: exports mirror the folders below it, as
    the analyse command's outputs do (``a/clip.mp4`` and ``b/clip.mp4`` stay apart)."""
    parents = [os.path.dirname(a.source) for a in answers if _local_file(a.source) is not None]
    try:
        return os.path.commonpath(parents) if parents else None
    except ValueError:  # relative and absolute paths, or two drives: keep names flat
        return None


def _name(answer: StoredAnswer, taken: set[str], root: str | None = None) -> str:
    """``ad``, ``ads/ad`` under the common folder, or ``ad.ja`` for another locale; a short
    hash when two videos still share a name."""
    # The analyse command's rule, so a name never climbs out, hides, or is shared by two.
    safe = safe_part(Path(answer.source.split("?")[0]).stem or "video")
    if root is not None and _local_file(answer.source) is not None:
        folders = Path(os.path.relpath(os.path.dirname(answer.source), root)).parts
        safe = str(safe_stem([*folders, Path(answer.source).stem or "video"]))
    name = safe + suffix(answer.locale, "")
    if name in taken:
        digest = hashlib.sha256(f"{answer.identity}|{answer.locale}".encode()).hexdigest()[:8]
        name = f"{safe}-{digest}{suffix(answer.locale, '')}"
    taken.add(name)
    return name


def check_formats(formats: list[str], *, snapping: bool = False) -> None:
    """Refuse ``--otio`` or ``--snap`` before any work when its extra is missing."""
    needs = [("otio", "opentimelineio", "otio")] if "otio" in formats else []
    if snapping:
        needs.append(("snap", "scenedetect", "snap"))
    for option, module, extra in needs:
        try:
            importlib.import_module(module)
        except ImportError:
            raise UsageError(
                f"--{option} needs {module}: pip install 'nanoreverse[{extra}]'"
            ) from None


def find_cuts(source: str) -> list[float]:
    """The times of the real cuts in a local file (PySceneDetect's content detector,
    decoding with PyAV); [] for a link or a file it cannot read."""
    if _local_file(source) is None:
        return []
    from scenedetect import ContentDetector, detect

    try:
        # Three frames at least between cuts: PySceneDetect's default (15) merges shots
        # shorter than half a second at 30 fps, which fast edits have.
        scenes = detect(source, ContentDetector(min_scene_len=3), backend="pyav")
    except Exception:  # a file PyAV cannot decode: no cuts known, times stay as they are
        return []
    return [float(start.seconds) for start, _ in scenes[1:]]


async def export_files(
    store: Store, formats: list[str], folder: Path, err: Console, *, snap_within: float | None
) -> int:
    """Write each finished answer of ``store`` in each of ``formats`` under ``folder``.

    Times come from the shots' durations, fitted to the file's real length and counted
    in its frames when PyAV can read it (else at 25 fps nominal); with ``snap_within``,
    each boundary moves to the nearest real cut that close. Returns how many videos
    were exported. The caller has checked the formats' extras (``check_formats``)."""
    videos, nominal, taken = 0, 0, set[str]()
    target = OutputFolder(folder)
    async with store:
        answers = [answer async for answer in store.answers(None)]
        root = _common_folder(answers)
        for answer in answers:
            shots = parse_analysis(answer.markdown).shots
            if not shots:
                err.print(f"{answer.source}: no shot list in its answer, skipped", markup=False)
                continue
            videos += 1
            length, fps = _probe(answer.source)
            nominal += fps is None
            ranges = shot_ranges([shot.duration_seconds for shot in shots], length)
            if snap_within is not None:
                ranges, moves = snap_to_cuts(ranges, find_cuts(answer.source), snap_within)
                err.print(f"{answer.source}: {_moved(moves, snap_within)}", markup=False)
            name = _name(answer, taken, root)
            _write(target, name, formats, answer, shots, ranges, fps or NOMINAL_FPS)
    where = f"{folder}/"
    err.print(f"{videos} videos written to {where} as {', '.join(formats)}", markup=False)
    if nominal and any(f in formats for f in ("edl", "otio")):
        err.print(
            f"{nominal} of them (links, or files PyAV could not read) counted at "
            f"{NOMINAL_FPS:g} fps",
            markup=False,
        )
    return videos


def _moved(moves: list[float | None], within: float) -> str:
    """``2 of 3 boundaries moved to a real cut (by 0.12 s on average, at most 0.30 s)``."""
    moved = [abs(m) for m in moves if m is not None]
    if not moved:
        return f"no real cut within {within:g} s of the {len(moves)} shot boundaries"
    return (
        f"{len(moved)} of {len(moves)} shot boundaries moved to a real cut "
        f"(by {sum(moved) / len(moved):.2f} s on average, at most {max(moved):.2f} s)"
    )


def _write(
    folder: OutputFolder,
    name: str,
    formats: list[str],
    answer: StoredAnswer,
    shots: list[Shot],
    ranges: list[tuple[float, float]],
    fps: float,
) -> None:
    is_link = _is_link(answer.source)
    title = answer.source if is_link else Path(answer.source).name
    note = MADE_UP_NOTE if parse_analysis(answer.markdown).made_up else None
    for kind in formats:
        if kind == "otio":
            import opentimelineio as otio

            target = None if is_link else Path(answer.source).as_uri()
            timeline = to_otio(title, target, shots, ranges, fps, note=note)
            text = otio.adapters.write_to_string(timeline, "otio_json")
        elif kind == "edl":
            text = to_edl(title, title, shots, ranges, fps, note=note)
        else:
            text = (to_srt if kind == "srt" else to_vtt)(shots, ranges, note=note)
        folder.write(PurePosixPath(name), f".{kind}", text)
