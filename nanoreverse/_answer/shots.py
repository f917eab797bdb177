"""Markdown shot tables → Shot objects, tolerant of layout, language and formatting.

The API's answer is a Markdown table per video (or per scene) followed by a
summary; its exact layout is not specified. Tables are read the way GitHub
(GFM) reads them: optional outer pipes, a delimiter row of dashes and colons,
``\\|`` for a pipe inside a cell (inside inline code too), missing cells as
empty. One tolerance beyond GFM: a row with too many cells because of an
unescaped pipe inside inline code is joined back. Nothing is dropped: cells
beyond the header are kept as ``column N``,
titles that map to no field stay in ``Shot.cells``, and every line outside a
table goes to ``Analysis.summary``.

The same line-at-a-time parser serves the whole text and the live stream.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .columns import FIELDS, map_titles
from .durations import parse_duration, shot_number

__all__ = ["Analysis", "Shot", "parse_analysis"]

_DELIMITER_CELL = re.compile(r"^\s*:?-+:?\s*$")
_BLOCK_START = re.compile(r"^ {0,3}(#{1,6}(\s|$)|>|```|~~~|(\*\s*){3,}$|(-\s*){3,}$|(_\s*){3,}$)")


# -- cells --------------------------------------------------------------------------


def split_row(line: str) -> list[str]:
    """Cells of one table row, GFM style: ``\\|`` is a pipe, outer pipes are optional."""
    cells: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(line):
        char = line[index]
        if char == "\\" and index + 1 < len(line):
            nxt = line[index + 1]
            current.append("|" if nxt == "|" else char + nxt)
            index += 2
            continue
        if char == "|":
            cells.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    cells.append("".join(current))
    stripped = line.strip()
    if stripped.startswith("|") and cells and not cells[0].strip():
        cells = cells[1:]
    if stripped.endswith("|") and not stripped.endswith("\\|") and cells and not cells[-1].strip():
        cells = cells[:-1]
    return [cell.strip() for cell in cells]


def _is_delimiter(line: str, columns: int) -> bool:
    if "-" not in line:
        return False
    cells = split_row(line)
    return len(cells) == columns and all(_DELIMITER_CELL.match(c) for c in cells)


# -- shots ----------------------------------------------------------------------------


@dataclass
class Shot:
    """One row of a shot table."""

    number: int | None = None
    framing: str = ""
    movement: str = ""
    description: str = ""
    audio: str = ""
    duration: str = ""
    #: Every column title → its cell text, unknown columns included.
    cells: dict[str, str] = field(default_factory=dict)

    @property
    def duration_seconds(self) -> float | None:
        return parse_duration(self.duration) if self.duration else None

    def prompt(self) -> str:
        """A text-to-video prompt for regenerating this shot.

        >>> Shot(framing="Wide shot", movement="slow dolly in", description="A red car",
        ...      duration="3s").prompt()
        'A red car. Wide shot. Camera: slow dolly in. Duration: 3 seconds.'
        """
        description = self.description.rstrip(". ")
        parts = [description[:1].upper() + description[1:]] if description else []
        if self.framing:
            parts.append(self.framing.rstrip(". "))
        if self.movement:
            parts.append(f"Camera: {self.movement.rstrip('. ')}")
        if self.audio:
            parts.append(f"Audio: {self.audio.rstrip('. ')}")
        seconds = self.duration_seconds
        if seconds is not None:
            parts.append(f"Duration: {seconds:g} second{'' if seconds == 1 else 's'}")
        if not parts:
            parts = [f"{title}: {text}" for title, text in self.cells.items() if text]
        return ". ".join(parts) + "." if parts else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "framing": self.framing,
            "movement": self.movement,
            "description": self.description,
            "audio": self.audio,
            "duration": self.duration,
            "duration_seconds": self.duration_seconds,
            "cells": dict(self.cells),
            "prompt": self.prompt(),
        }


def _rejoin_code_spans(row: list[str], width: int) -> list[str]:
    """Undo splits at unescaped pipes inside inline code, when that gives the header's width.

    GFM splits there (a pipe in code must be escaped), but a model writing
    ``a | b`` in backticks means one cell, and the surplus cells betray it.
    """
    merged: list[str] = []
    for cell in row:
        if merged and merged[-1].count("`") % 2:
            merged[-1] = f"{merged[-1]} | {cell}"
        else:
            merged.append(cell)
    return merged if len(merged) == width else row


def _shot_from_row(titles: list[str], mapping: dict[int, str], row: list[str]) -> Shot:
    if len(row) > len(titles):
        row = _rejoin_code_spans(row, len(titles))
    shot = Shot()
    width = max(len(titles), len(row))
    for index in range(width):
        text = row[index] if index < len(row) else ""
        title = titles[index] if index < len(titles) else f"column {index + 1}"
        if title in shot.cells or not title:
            title = f"{title or 'column'} {index + 1}".strip()
        shot.cells[title] = text
        name = mapping.get(index)
        if name == "number":
            shot.number = shot_number(text)
        elif name is not None:
            setattr(shot, name, text)
    return shot


#: The words the emulator opens each of its answers with: an answer holding them (near its
#: start) was made up on this machine, not written by the service.
MADE_UP = "Made up by the nanoreverse emulator"


@dataclass
class Analysis:
    """A parsed answer: its shots, the text around the tables, and the original Markdown.

    >>> nr.parse_analysis("| Shot | Duration |\\n|---|---|\\n| 1 | 3s |\\n").shots[0].number
    1
    """

    shots: list[Shot]
    summary: str
    markdown: str

    @property
    def made_up(self) -> bool:
        """True for an answer the emulator made up (``nanoreverse.testing``): never an
        analysis of the video. Every output the command line writes says so."""
        return MADE_UP in self.markdown[:400]

    @property
    def total_seconds(self) -> float | None:
        known = [s.duration_seconds for s in self.shots if s.duration_seconds is not None]
        return sum(known) if known else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "made_up": self.made_up,
            "shots": [shot.to_dict() for shot in self.shots],
            "summary": self.summary,
            "markdown": self.markdown,
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)


class ShotParser:
    """Reads Markdown a piece at a time and hands out each shot once its row is complete.

    >>> parser = ShotParser()
    >>> parser.feed("| Shot | Duration |\\n|---|---|\\n| 1 | 3s |\\n")
    [Shot(number=1, framing='', movement='', description='', audio='', duration='3s', ...)]
    """

    def __init__(self) -> None:
        self._pending = ""
        self._candidate: str | None = None  # a line that may be a table header
        self._titles: list[str] | None = None
        self._mapping: dict[int, str] = {}
        self._outside: list[str] = []
        self.shots: list[Shot] = []

    def feed(self, text: str) -> list[Shot]:
        """Add text; return the shots whose rows it completed."""
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        found: list[Shot] = []
        for line in lines:
            shot = self._line(line.removesuffix("\r"))
            if shot is not None:
                found.append(shot)
        return found

    def close(self) -> list[Shot]:
        """End of text: finish the last line."""
        found: list[Shot] = []
        if self._pending:
            shot = self._line(self._pending.removesuffix("\r"))
            self._pending = ""
            if shot is not None:
                found.append(shot)
        self._flush_candidate()
        return found

    @property
    def summary(self) -> str:
        return "\n".join(self._outside).strip()

    def _flush_candidate(self) -> None:
        if self._candidate is not None:
            self._outside.append(self._candidate)
            self._candidate = None

    def _line(self, line: str) -> Shot | None:
        if self._titles is not None:
            if line.strip() and not _BLOCK_START.match(line):
                shot = _shot_from_row(self._titles, self._mapping, split_row(line))
                self.shots.append(shot)
                return shot
            self._titles = None
        if self._candidate is not None:
            header = split_row(self._candidate)
            if _is_delimiter(line, len(header)):
                self._candidate = None
                self._titles = header
                self._mapping = map_titles(header)
                return None
            self._flush_candidate()
        if "|" in line and line.strip() and not _BLOCK_START.match(line):
            self._candidate = line
        else:
            self._outside.append(line)
        return None


def parse_analysis(markdown: str) -> Analysis:
    """Parse an answer's Markdown into shots and summary.

    >>> analysis = parse_analysis("| Shot | Duration |\\n|---|---|\\n| 1 | 3s |\\n\\nA car.")
    >>> analysis.shots[0].duration_seconds, analysis.summary
    (3.0, 'A car.')
    """
    parser = ShotParser()
    parser.feed(markdown)
    parser.close()
    return Analysis(shots=parser.shots, summary=parser.summary, markdown=markdown)


def _escape_cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_table(shots: Iterable[Shot]) -> str:
    """Shots back to one Markdown table (titles from the first shot's cells)."""
    shots = list(shots)
    if not shots:
        return ""
    titles = list(shots[0].cells) or list(FIELDS)
    lines = [
        "| " + " | ".join(_escape_cell(t) for t in titles) + " |",
        "|" + "|".join("---" for _ in titles) + "|",
    ]
    for shot in shots:
        cells = [shot.cells.get(title, "") for title in titles]
        lines.append("| " + " | ".join(_escape_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"
