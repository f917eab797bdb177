"""Openers and merges: what a line that opens a shot says in its own text ("## Shot 3 |
00:08–00:12 | 4s"), whether a plain line opens a card, and how two descriptions of one
shot become one."""

from __future__ import annotations

import re

from .durations import find_duration, time_span
from .fields import add, guess, labelled, read_segment
from .model import Shot
from .words import opener_id, plain

_APART = re.compile(r"[|:·•—–(\[-]")


def opens_card(line: str) -> bool:
    """A plain line opens a card when the id stands apart: "**Shot 1**", "Shot 1  Duration: …",
    "1 | 0:00–0:03 | WS", "镜头 2：…"; not "Shot 3 is the best"."""
    found = opener_id(line)
    if found is None:
        return False
    if line.strip().startswith(("**", "__")) or not found[2]:
        return True
    gap = found[3]
    return "  " in gap or bool(_APART.search(gap + found[2][:1]))


def read_opener_piece(shot: Shot, piece: str) -> None:
    """One piece of an opener line: a time range, a duration, a label, a title or a field."""
    piece = piece.strip().strip("()（）[]")
    if not piece:
        return
    found = find_duration(piece)
    if found and len(plain(found)) >= len(plain(piece)) - 4:
        span = time_span(found)
        if span and span[1] is not None:
            if shot.start is None:
                shot.start, shot.end = span
        else:
            add(shot, "duration", found)
        return
    named = labelled(piece)
    if named and named[1]:
        read_segment(shot, piece, "")
        return
    if found:  # "Title (0:00–0:05)"
        read_opener_piece(shot, found)
        piece = piece.replace(found, "")
    text = plain(piece).strip(" ()（）[]-–—")
    name = guess(shot, text) if text else ""
    if name in ("framing", "movement"):
        add(shot, name, text)
    elif text and "title" not in shot.cells:
        shot.cells["title"] = text
    elif text:
        add(shot, "description", text)


def merge_into(shot: Shot, more: Shot, join: bool) -> None:
    """Fold ``more`` into ``shot``: rows of one shot (join: texts and durations add up),
    or a detail block into its overview row (the row's empty fields are filled)."""
    for name in ("framing", "movement", "description", "audio", "duration"):
        extra = getattr(more, name)
        current = getattr(shot, name)
        if extra and extra != current:
            if not current:
                setattr(shot, name, extra)
            elif join:
                setattr(shot, name, f"{current}{' + ' if name == 'duration' else '; '}{extra}")
    if more.start is not None and shot.start is None:
        shot.start = more.start
    if more.end is not None and (join or shot.end is None):
        shot.end = more.end
    for title, text in more.cells.items():
        if title not in shot.cells:
            shot.cells[title] = text
        elif join and text and text != shot.cells[title]:
            shot.cells[title] = f"{shot.cells[title]}; {text}"
