"""Pipe tables read the way GitHub (GFM) reads them, one line at a time.

Optional outer pipes, a delimiter row of dashes and colons, ``\\|`` for a pipe inside
a cell (inside inline code too), missing cells as empty. One tolerance beyond GFM: a
row with too many cells because of an unescaped pipe inside inline code is joined
back. Whether a table is a shot list is decided elsewhere (``reader``).
"""

from __future__ import annotations

import re

_DELIMITER_CELL = re.compile(r"^\s*:?-+:?\s*$")
#: Lines that end a table and never continue one: headings, quotes, fences, rules.
BLOCK_START = re.compile(r"^ {0,3}(#{1,6}(\s|$)|>|```|~~~|(\*\s*){3,}$|(-\s*){3,}$|(_\s*){3,}$)")


def split_row(line: str) -> list[str]:
    """Cells of one table row, GFM style: ``\\|`` is a pipe, outer pipes are optional.

    >>> split_row("| a | b \\\\| c |")
    ['a', 'b | c']
    """
    # the common case, no escapes, is a plain split
    cells = line.split("|") if "\\" not in line else _split_escaped(line)
    stripped = line.strip()
    if stripped.startswith("|") and cells and not cells[0].strip():
        cells = cells[1:]
    if stripped.endswith("|") and not stripped.endswith("\\|") and cells and not cells[-1].strip():
        cells = cells[:-1]
    return [cell.strip() for cell in cells]


def _split_escaped(line: str) -> list[str]:
    cells: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(line):
        char = line[index]
        if char == "\\" and index + 1 < len(line):
            nxt = line[index + 1]
            # "\\|" is a pipe in a cell and "\\\\" a backslash: what render_table writes back
            current.append(nxt if nxt in "|\\" else char + nxt)
            index += 2
            continue
        if char == "|":
            cells.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    cells.append("".join(current))
    return cells


def is_delimiter(line: str, columns: int) -> bool:
    """True for the row of dashes that makes the line above it a table header."""
    if "-" not in line:
        return False
    cells = split_row(line)
    return len(cells) == columns and all(_DELIMITER_CELL.match(c) for c in cells)


def may_be_header(line: str) -> bool:
    return "|" in line and bool(line.strip()) and not BLOCK_START.match(line)


def continues_table(line: str) -> bool:
    return bool(line.strip()) and not BLOCK_START.match(line)


def rejoin_code_spans(row: list[str], width: int) -> list[str]:
    """Undo splits at unescaped pipes inside inline code, when that gives the header's width.

    GFM splits there (a pipe in code must be escaped), but a model writing
    ``a | b`` in backticks means one cell, and the surplus cells betray it.
    """
    if len(row) <= width:
        return row
    merged: list[str] = []
    for cell in row:
        if merged and merged[-1].count("`") % 2:
            merged[-1] = f"{merged[-1]} | {cell}"
        else:
            merged.append(cell)
    return merged if len(merged) == width else row


def escape_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|")
