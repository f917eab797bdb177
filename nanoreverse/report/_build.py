"""Building the storyboard: an index, a page per video, thumbnails and a contact sheet.

Incremental: a page is made again only when its answer, its video file or the templates
changed (a fingerprint per page in ``report/.state.json``); thumbnails are named by the
video's identity and the moment, so they are reused whatever the page.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup
from PIL import Image

from .. import parse_analysis, shot_ranges
from ..cli._layout import REPORT
from ._collect import Video
from ._frames import THUMB_WIDTH, UnreadableVideo, frames_at, video_length

#: Bump when the templates or the page's data change, so every page is made again.
TEMPLATE_VERSION = "4"
# The answer's summary is Markdown written by a model: rendered as CommonMark with raw
# HTML off (it shows as text), and markdown-it's own check refuses javascript: links.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
_COLUMNS = 4
#: Frames decoded per video at most: an answer of thousands of rows (a model gone wrong)
#: once took 200 s and 3.5 GiB, and a contact sheet taller than JPEG allows. Later shots
#: are listed without a frame.
MAX_FRAMES = 240


@dataclass
class Report:
    """What a build did."""

    index: Path
    made: int = 0
    kept: int = 0
    problems: list[str] = field(default_factory=list)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("nanoreverse.report", "templates"),
        autoescape=True,  # a description holding <script> is shown as text
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _fingerprint(video: Video) -> str:
    digest = hashlib.sha256(f"{TEMPLATE_VERSION}|{video.locale}|{video.source}|".encode())
    digest.update((video.markdown or video.error or "").encode())
    path = Path(video.source)
    if not video.is_link and path.is_file():
        info = path.stat()
        digest.update(f"|{info.st_size}|{info.st_mtime_ns}".encode())
    return digest.hexdigest()


def _thumb_name(video: Video, moment: float) -> str:
    key = f"{video.identity}|{moment:.3f}|{THUMB_WIDTH}"
    return hashlib.sha256(key.encode()).hexdigest()[:20] + ".jpg"


class Builder:
    """Writes ``OUT/report/``; one builder per run."""

    def __init__(self, out: Path) -> None:
        self.root = out / REPORT
        self.thumbs = self.root / "thumbs"
        self.pages = self.root / "videos"
        self.sheets = self.root / "sheets"
        for folder in (self.thumbs, self.pages, self.sheets):
            folder.mkdir(parents=True, exist_ok=True)
        self.env = _environment()
        self.state_path = self.root / ".state.json"
        try:
            self.state: dict[str, dict[str, Any]] = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            self.state = {}

    def build(self, videos: list[Video], folder: Path) -> Report:
        report = Report(self.root / "index.html")
        cards = []
        fresh_state: dict[str, dict[str, Any]] = {}
        for video in videos:
            fingerprint = _fingerprint(video)
            known = self.state.get(video.slug)
            page = self.pages / f"{video.slug}.html"
            if known and known.get("fingerprint") == fingerprint and page.exists():
                card = known["card"]
                report.kept += 1
            else:
                card = self._video(video, report)
                report.made += card["page"] is not None
            fresh_state[video.slug] = {"fingerprint": fingerprint, "card": card}
            cards.append(card)
        index = self.env.get_template("index.html").render(
            title="Storyboards", lang="en", videos=cards, folder=folder.name
        )
        report.index.write_text(index, encoding="utf-8")
        self.state_path.write_text(json.dumps(fresh_state), encoding="utf-8")
        return report

    def _video(self, video: Video, report: Report) -> dict[str, Any]:
        card: dict[str, Any] = {
            "name": video.name,
            "locale": video.locale,
            "page": None,
            "first_frame": None,
            "shots": 0,
            "length": "?",
            "status": "finished" if video.markdown is not None else f"failed: {video.error}",
        }
        if video.markdown is None:
            report.problems.append(f"{_shown(video.source)}: no analysis ({video.error})")
            return card
        analysis = parse_analysis(video.markdown)
        notes: list[str] = []
        path = self._local_file(video, notes)
        length = self._length(path, notes) if path is not None else None
        ranges = shot_ranges([s.duration_seconds for s in analysis.shots], length)
        images = []
        if path is not None and length is not None:
            if len(ranges) > MAX_FRAMES:
                notes.append(
                    f"The answer lists {len(ranges):,} shots: frames are shown for the first "
                    f"{MAX_FRAMES} only."
                )
            images = self._thumbnails(video, path, ranges[:MAX_FRAMES], notes)
        shots = []
        for number, (shot, (start, end)) in enumerate(zip(analysis.shots, ranges, strict=True)):
            shots.append(
                {
                    "number": shot.number if shot.number is not None else number + 1,
                    "start": timecode(start),
                    "end": timecode(end),
                    "middle": timecode((start + end) / 2),
                    "framing": shot.framing,
                    "movement": shot.movement,
                    "description": shot.description,
                    "audio": shot.audio,
                    "prompt": shot.prompt(),
                    "thumb": (
                        f"../thumbs/{images[number + 1]}" if number + 1 < len(images) else None
                    ),
                }
            )
        if not analysis.shots:
            notes.append("No shot list was found in the answer: it is shown below as it came.")
        sheet = self._sheet(video, images[1:]) if images else None
        total = length if length is not None else (ranges[-1][1] if ranges else None)
        page = self.env.get_template("video.html").render(
            title=video.name,
            lang=video.locale,
            video=video,
            shots=shots,
            notes=notes,
            sheet=f"../sheets/{sheet}" if sheet else None,
            summary=Markup(_MARKDOWN.render(analysis.summary)) if analysis.summary else None,
            made_up=analysis.made_up,
            markdown=video.markdown,
            length=timecode(total) if total is not None else "length unknown",
        )
        (self.pages / f"{video.slug}.html").write_text(page, encoding="utf-8")
        report.problems.extend(f"{_shown(video.source)}: {note}" for note in notes)
        card.update(
            made_up=analysis.made_up,
            page=f"videos/{video.slug}.html",
            first_frame=f"thumbs/{images[0]}" if images else None,
            shots=len(shots),
            length=timecode(total) if total is not None else "?",
        )
        return card

    def _local_file(self, video: Video, notes: list[str]) -> Path | None:
        """The video's file, or None (and a note saying why there are no frames)."""
        if video.is_link:
            notes.append(
                "No frames: this video was given as a link (YouTube or URL), so there is no "
                "local file to take them from."
            )
            return None
        path = Path(video.source)
        if not path.is_file():
            notes.append(f"No frames: {path} is not there any more (moved or deleted).")
            return None
        return path

    def _length(self, path: Path, notes: list[str]) -> float | None:
        try:
            return video_length(path)
        except UnreadableVideo as exc:
            notes.append(f"No frames: {path} could not be decoded ({exc}).")
            return None

    def _thumbnails(
        self, video: Video, path: Path, ranges: list[tuple[float, float]], notes: list[str]
    ) -> list[str]:
        """The thumbnails' names: the first frame, then one per shot at its middle."""
        moments = [0.0] + [(start + end) / 2 for start, end in ranges]
        names = [_thumb_name(video, moment) for moment in moments]
        missing = [i for i, name in enumerate(names) if not (self.thumbs / name).exists()]
        if missing:
            try:
                images = frames_at(path, [moments[i] for i in missing])
            except UnreadableVideo as exc:
                notes.append(f"No frames: {path} could not be decoded ({exc}).")
                return []
            for i, image in zip(missing, images, strict=True):
                image.convert("RGB").save(self.thumbs / names[i], "JPEG", quality=82)
        return names

    def _sheet(self, video: Video, names: list[str]) -> str | None:
        if not names:
            return None
        images = [Image.open(self.thumbs / name) for name in names]
        try:
            width = max(image.width for image in images)
            height = max(image.height for image in images)
            columns = min(_COLUMNS, len(images))
            rows = math.ceil(len(images) / columns)
            sheet = Image.new("RGB", (columns * width, rows * height), (24, 24, 24))
            for index, image in enumerate(images):
                sheet.paste(image, ((index % columns) * width, (index // columns) * height))
        finally:
            for image in images:
                image.close()
        name = f"{video.slug}.jpg"
        sheet.save(self.sheets / name, "JPEG", quality=85)
        return name


def timecode(seconds: float) -> str:
    """``m:ss.s``, as the pages show times.

    >>> timecode(75.25)
    '1:15.2'
    """
    minutes, rest = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes)}:{rest:04.1f}"


def _shown(source: str) -> str:
    """A file as the user would name it: relative to the current folder when under it."""
    if "://" in source:
        return source
    try:
        relative = os.path.relpath(source)
    except ValueError:  # another drive
        return source
    return source if relative.startswith("..") else relative
