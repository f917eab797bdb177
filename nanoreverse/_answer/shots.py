"""An answer's Markdown → its shots and summary, whole or while it streams.

Which lines are shots is the reader's job (``reader.py``); this module puts the
pieces together: an overview row and the detail block that describes the same shot
become one shot, rows of one shot are joined, and the answer's language is noted for
the prompts. The live parser re-reads the text it has and hands out a shot once
nothing later in the answer can change it, so it gives exactly what
:func:`parse_analysis` gives for the whole text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .columns import FIELDS
from .model import MADE_UP, Analysis, Shot
from .openers import merge_into
from .reader import Reader, Unit
from .tables import escape_cell
from .words import detect_locale

__all__ = ["Analysis", "Shot", "ShotParser", "parse_analysis", "render_table"]

# A line that may change which earlier shots are complete: only then is the text re-read.
_SIGNIFICANT = re.compile(r"\||^ {0,3}#|^\s*(\*\*|__)|^\s*\S{0,12}\d|^ {0,3}(```|~~~|---|\*\*\*)")


def clear_caches() -> None:
    """Forget the memoised readings of lines (for measuring a first, cold parse)."""
    from . import columns, durations, fields, words

    for function in (words.plain, words.opener_id, fields.labelled, columns.field_of,
                     columns.fields_of, columns.is_both, durations.find_duration,
                     durations.time_span, durations.parse_duration):  # fmt: skip
        function.cache_clear()


def _resolve(reader: Reader) -> list[Unit]:
    """The shots in order, each once: detail blocks folded into their overview rows."""
    out: list[Unit] = []
    rows: dict[tuple[int, int], Unit] = {}
    for unit in reader.units:
        previous = out[-1] if out else None
        if (
            unit.kind == "block"
            and previous is not None
            and previous.kind == "block"
            and previous.ident == unit.ident
            and previous.section == unit.section
        ):
            merge_into(previous.shot, unit.shot, join=True)
            previous.last, previous.closed = unit.last, unit.closed
            continue
        number = unit.shot.number
        if unit.kind == "row":
            if number is not None:
                rows.setdefault((unit.section, number), unit)
            out.append(unit)
            continue
        row = rows.pop((unit.section, number), None) if number is not None else None
        if row is not None and row.table is not None:
            if not row.table.full:  # the fields of both, in the row's place
                merge_into(row.shot, unit.shot, join=False)
            else:  # a full row says it all already: the block's text stays in the summary
                reader.outside.extend(range(unit.first, unit.last + 1))
            continue
        out.append(unit)
    return out


def _locale(lines: list[str], units: list[Unit]) -> str:
    if not units:
        return "en"
    text = "\n".join(line for line in lines[: units[0].last + 1] if MADE_UP not in line)
    return detect_locale(text)


def _read(lines: list[str], final: bool, every_table: bool = False) -> tuple[list[Unit], Reader]:
    reader = Reader(lines, every_table)
    reader.run(final)
    units = _resolve(reader)
    locale = _locale(lines, units)
    for unit in units:
        unit.shot.locale = locale
    return units, reader


def _summary(lines: list[str], reader: Reader) -> str:
    return "\n".join(lines[i].removesuffix("\r") for i in sorted(set(reader.outside))).strip()


def parse_analysis(markdown: str) -> Analysis:
    """Parse an answer's Markdown into shots and summary; never raises.

    Reads shot tables, per-shot headings, cards and ``|``-separated lines in the 11
    locales (see the guide on answers). When no shot list is found, ``shots`` is empty
    and the text is all in ``summary``.

    Args:
        markdown: The answer, whole (``await stream.text()``, ``result.markdown``).

    >>> analysis = parse_analysis("## Shot 1 | 0:00–0:03\\n- Camera: pan\\n\\n## Summary\\nA car.")
    >>> analysis.shots[0].duration_seconds, analysis.shots[0].movement, analysis.summary
    (3.0, 'pan', '## Summary\\nA car.')
    """
    return _parse(markdown)


def _parse(markdown: str, every_table: bool = False) -> Analysis:
    lines = markdown.split("\n")
    units, reader = _read(lines, True, every_table)
    locale = units[0].shot.locale if units else "en"  # _read worked it out once
    return Analysis([u.shot for u in units], _summary(lines, reader), markdown, locale)


def _settled(units: list[Unit], reader: Reader) -> int:
    """How many leading shots nothing later in the answer can change."""
    count = 0
    for index, unit in enumerate(units):
        later = units[index + 1 :]
        after_summary = any(b > unit.last for b in reader.boundaries)
        higher = any(
            u.shot.number is not None
            and unit.shot.number is not None
            and u.shot.number > unit.shot.number
            and not u.pending
            for u in later
        )
        if unit.kind == "row" and unit.table is not None and unit.table.full:
            done = unit.closed
        elif unit.kind == "row":
            done = unit.closed and (after_summary or (unit.shot.number is not None and any(
                u.kind == "block" and not u.pending and u.shot.number is not None
                and u.shot.number > unit.shot.number for u in later)))  # fmt: skip
        else:
            done = unit.closed and (after_summary or higher)
        if not done:
            break
        count += 1
    return count


class ShotParser:
    """Reads Markdown a piece at a time and hands out each shot once it is complete.

    A table row is complete at the next row, a heading or card block at the next
    shot or the summary.

    >>> parser = ShotParser()
    >>> parser.feed("| Shot | Camera | Duration |\\n|---|---|---|\\n| 1 | Pan | 3s |\\n")
    []
    >>> parser.feed("| 2 | Tilt | 1s |\\n")
    [Shot(number=1, framing='', movement='Pan', description='', audio='', duration='3s', ...)]
    """

    def __init__(self) -> None:
        self._text: list[str] = []
        self._pending = ""
        self._given = 0
        # Set by close(): the whole text, and the reading whose leftovers are the summary.
        self._lines: list[str] = []
        self._reader: Reader | None = None

    def feed(self, text: str) -> list[Shot]:
        """Add text; return the shots it completed."""
        self._pending += text
        if "\n" not in text:
            return []
        *lines, self._pending = self._pending.split("\n")
        self._text.extend(lines)
        if not any(_SIGNIFICANT.search(line) for line in lines):
            return []
        units, reader = _read(self._text, final=False)
        return self._hand_out(units[: _settled(units, reader)])

    def close(self) -> list[Shot]:
        """End of text: every shot not handed out yet."""
        lines = [*self._text, self._pending]
        units, self._reader = _read(lines, final=True)
        self._lines = lines
        return self._hand_out(units)

    def _hand_out(self, units: list[Unit]) -> list[Shot]:
        new = [unit.shot for unit in units[self._given :]]
        self._given = max(self._given, len(units))
        return new

    @property
    def summary(self) -> str:
        """The text outside the shots (complete once :meth:`close` was called)."""
        if self._reader is None:
            return ""
        return _summary(self._lines, self._reader)


def render_table(shots: Iterable[Shot]) -> str:
    """Shots back to one Markdown table (titles from the first shot's cells)."""
    shots = list(shots)
    if not shots:
        return ""
    titles = list(shots[0].cells) or list(FIELDS)
    lines = [
        "| " + " | ".join(escape_cell(t) for t in titles) + " |",
        "|" + "|".join("---" for _ in titles) + "|",
    ]
    for shot in shots:
        cells = [shot.cells.get(title, "") for title in titles]
        lines.append("| " + " | ".join(escape_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"
