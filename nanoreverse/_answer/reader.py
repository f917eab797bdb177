"""Which parts of an answer are shots: shot tables, per-shot headings, cards, pipe lines.

One pass over the lines. A table counts as a shot list by its content (shot-like
columns, filled rows), so glossaries, character lists, tips and templates stay text.
A heading or line that opens a shot ("## Shot 3 | 00:08–00:12", "镜头 1", "Shot 1
Duration: 0.5s") starts a block whose lines, bullets and field/value table give that
shot's fields. Every line that is not part of a shot goes to the summary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .columns import fields_of, map_titles
from .durations import find_duration
from .fields import add, read_cell, read_line, read_segment
from .model import Shot
from .openers import merge_into, opens_card, read_opener_piece
from .shotlike import judge
from .tables import continues_table, is_delimiter, may_be_header, rejoin_code_spans, split_row
from .words import SUMMARY, is_placeholder, is_totals, opener_id, plain

_FENCE = re.compile(r"^ {0,3}(```|~~~)\s*(markdown|md|text)?\s*$", re.I)
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_OPENER_PIECES = re.compile(r"\s*[|·•]\s*|\s+—\s+|\s+-\s+")
_RULE = re.compile(r"^ {0,3}((\*\s*){3,}|(-\s*){3,}|(_\s*){3,})$")


@dataclass
class Unit:
    """One shot as found in the text, with where it came from."""

    shot: Shot
    kind: str  # "row" or "block"
    ident: str
    first: int
    last: int
    table: Table | None = None
    section: int = 0  # how many summary headings came before it: merges never cross one
    closed: bool = False
    pending: bool = False  # a heading with no body yet: it may turn out to title a table
    level: int = 0  # the heading's level; 0 for a line that opens a card
    context: str = ""


@dataclass
class Table:
    titles: list[str]
    mapping: dict[int, str]
    lines: list[int]
    kind: str = ""  # "", "shots", "fields", "other"
    full: bool = False
    ended: bool = False
    units: list[Unit] = field(default_factory=list)


class Reader:
    """Feed it lines in order; ``units`` and ``outside`` hold what was found so far."""

    def __init__(self, lines: list[str], every_table: bool = False) -> None:
        self.lines = lines
        self.every_table = every_table  # GFM's grammar alone: every table is shots (tests)
        self.units: list[Unit] = []
        self.outside: list[int] = []  # line numbers of summary text
        self.boundaries: list[int] = []  # line numbers of summary headings
        self.table: Table | None = None
        self.block: Unit | None = None
        self.candidate: int | None = None

    def run(self, final: bool) -> None:
        for index, line in enumerate(self.lines):
            self._line(index, line.removesuffix("\r"))
        if final and self.candidate is not None:
            candidate, self.candidate = self.candidate, None
            self._text(candidate, self.lines[candidate].removesuffix("\r"))
        if final:
            self._end_table()
            self._close_block()

    # -- dispatch -------------------------------------------------------------------------

    def _line(self, index: int, line: str) -> None:
        if self.table is not None:
            if continues_table(line) and (
                "|" in line or self.table.kind != "shots" or self.every_table
            ):
                self._row(index, line)
                return
            self._end_table()
        if self.candidate is not None:
            candidate, self.candidate = self.candidate, None
            header = split_row(self.lines[candidate])
            if is_delimiter(line, len(header)):
                self._start_table(header, [candidate, index])
                return
            self._text(candidate, self.lines[candidate].removesuffix("\r"))
        if ("`" in line or "~" in line) and _FENCE.match(line):
            return  # an answer wrapped in a fence is read as if it were not
        if may_be_header(line):
            self.candidate = index
            return
        self._text(index, line)

    def _text(self, index: int, line: str) -> None:
        # The cheap test first: most lines are neither headings nor rules (parse time).
        lead = line.lstrip(" ")[:1]
        heading = _HEADING.match(line) if lead == "#" else None
        opened = opener_id(line) if (heading or opens_card(line)) and not self.every_table else None
        if opened is not None:
            self._close_block()
            self._open_block(index, opened, len(heading.group(1)) if heading else 0)
            return
        block = self.block
        if heading:
            title = plain(heading.group(2))
            level = len(heading.group(1))
            if block is not None and block.level and level > block.level and fields_of(title):
                block.context = read_segment(block.shot, title + ":", "") or block.context
                self._extend(block, index)
                return
            self._close_block()
            if SUMMARY.match(title):
                self.boundaries.append(index)
            self.outside.append(index)
            return
        if block is not None:
            ruled = lead in "*-_" and _RULE.match(line) is not None
            if ruled or (not block.level and SUMMARY.match(plain(line))):
                self._close_block()
            elif line.strip():
                block.context = read_line(block.shot, line, block.context)
                self._extend(block, index)
                return
            else:
                return  # blank lines inside a block belong to it
        self.outside.append(index)

    # -- blocks ---------------------------------------------------------------------------

    def _open_block(self, index: int, opened: tuple[str, int | None, str, str], level: int) -> None:
        ident, number, rest, _ = opened
        shot = Shot(number=number)
        for piece in _OPENER_PIECES.split(rest):
            read_opener_piece(shot, piece)
        unit = Unit(shot, "block", ident, index, index, section=len(self.boundaries))
        unit.level, unit.pending = level, bool(level)
        self.units.append(unit)
        self.block = unit

    def _extend(self, unit: Unit, index: int) -> None:
        unit.last, unit.pending = index, False

    def _close_block(self) -> None:
        block, self.block = self.block, None
        if block is None:
            return
        block.closed = True
        shot = block.shot
        if not shot.description and shot.cells.get("title"):
            shot.description = shot.cells["title"]

    # -- tables ---------------------------------------------------------------------------

    def _start_table(self, titles: list[str], lines: list[int]) -> None:
        self.table = Table(titles, map_titles(titles), lines)

    def _row(self, index: int, line: str) -> None:
        table = self.table
        assert table is not None
        cells = rejoin_code_spans(split_row(line), len(table.titles))
        if not table.kind:
            if not self.every_table and (
                all(is_placeholder(c) for c in cells[1:]) or is_totals(cells[0] if cells else "")
            ):
                table.lines.append(index)
                return
            table.kind = self._decide(table, cells)
            if table.kind == "fields" and self.block and fields_of(table.titles[0]):
                self._field_row(table.titles)  # the header row is a field too
            if table.kind == "other":
                self.outside.extend(table.lines)
        if table.kind == "fields":
            self._field_row(cells)
            assert self.block is not None
            self._extend(self.block, index)
        elif table.kind == "other":
            self.outside.append(index)
        else:
            self._shot_row(table, index, cells)

    def _decide(self, table: Table, cells: list[str]) -> str:
        """ "shots", "fields" (one shot's field/value table) or "other", from the header
        and the first filled row."""
        block = self.block
        mapping = table.mapping
        if self.every_table:
            table.full = True
            return "shots"
        shotlike, full = judge(table.titles, mapping, cells)
        if block is not None and not shotlike and len(table.titles) == 2:
            return "fields"
        if not shotlike:
            return "other"
        if block is not None:  # a heading above a shot table titles a section, not a shot
            if block.level:
                self._unblock(block)
            else:
                self._close_block()
        table.full = full
        return "shots"

    def _unblock(self, block: Unit) -> None:
        self.block = None
        self.units.remove(block)
        self.outside.extend(range(block.first, block.last + 1))
        self.outside.sort()

    def _field_row(self, cells: list[str]) -> None:
        if self.block is not None and len(cells) >= 2:
            read_segment(self.block.shot, f"{cells[0]}: {' '.join(cells[1:])}", "")

    def _shot_row(self, table: Table, index: int, cells: list[str]) -> None:
        if self.every_table:
            pass
        elif all(is_placeholder(c) for c in cells) or is_totals(cells[0] if cells else ""):
            self.outside.append(index)
            return
        shot = Shot()
        for col in range(max(len(table.titles), len(cells))):
            text = cells[col] if col < len(cells) else ""
            title = table.titles[col] if col < len(table.titles) else f"column {col + 1}"
            if title in shot.cells or not title:
                title = f"{title or 'column'} {col + 1}".strip()
            shot.cells[title] = text
            read_cell(shot, table.mapping.get(col), text)
        names = set(table.mapping.values())
        if not names & {"duration", "time"}:
            for text in cells:  # "G01 · 0–4秒": a duration inside another cell
                found = find_duration(text)
                if found:
                    add(shot, "duration", found)
                    break
        number_col = _col(table, "number") if "number" in names else len(cells)
        ident = plain(cells[number_col]) if number_col < len(cells) else ""
        previous = table.units[-1] if table.units else None
        if previous and ident and previous.ident == ident and not self.every_table:
            merge_into(previous.shot, shot, join=True)
            previous.last = index
            return
        if previous:
            previous.closed = True
            if previous.shot.end is None and previous.shot.start is not None:
                previous.shot.end = shot.start
        unit = Unit(shot, "row", ident, index, index, table, section=len(self.boundaries))
        table.units.append(unit)
        self.units.append(unit)

    def _end_table(self) -> None:
        table, self.table = self.table, None
        if table is None:
            return
        table.ended = True
        if table.units:
            table.units[-1].closed = True
        if not table.kind:
            self.outside.extend(table.lines)
            self.outside.sort()


def _col(table: Table, name: str) -> int:
    return next(c for c, n in table.mapping.items() if n == name)
