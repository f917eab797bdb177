"""A shot's fields from the pieces models write: table cells, ``Label: value`` lines,
``·``-separated segments, emoji-marked lines and bare words ("WS", "Pan left")."""

from __future__ import annotations

import re
from functools import lru_cache

from .columns import exact_field, field_of, fields_of, normalise_title
from .durations import find_duration, time_span
from .model import Shot
from .words import FRAMINGS, MOVES, is_placeholder, plain, shot_number

_LABEL = re.compile(r"^(?P<label>[^:：]{1,40}?)\s*[:：]\s*(?P<value>.*)$")
_SEGMENTS = re.compile(r"\s+[·•|]\s+|\s*｜\s*|\s+—\s+")
_SEGMENT_MARKS = "·•|｜—"  # a line with none of these has one piece: no split needed
_BREAKS = re.compile(r"<br\s*/?>|；|;(?=\s*[^\s:：]{1,12}\s*[:：])", re.I)
_BULLET = re.compile(r"^\s*(?:[-+*•]|\d+[.)])\s+")
_LETTER = re.compile(r"[^\W\d_]")
_BR = re.compile(r"\s*<br\s*/?>\s*", re.I)
_BOTH_SPLIT = re.compile(r"\s*(?:/|·|，|、|,|\+|；|;)\s*")
_EMOJI = {
    "framing": "📷📸🎥📹🖼",
    "audio": "🎵🎶🔊🔉🎧🎤🎙♪♫",
    "duration": "⏱⏲🕐⌛⏳",
    "description": "📝👁🎬",
}
_BY_EMOJI = {mark: name for name, marks in _EMOJI.items() for mark in marks}
_GENERIC_AUDIO = {"audio", "sound", "音频", "音訊", "声音", "聲音", "音声", "오디오", "사운드"}
_GENERIC_AUDIO |= {"sonido", "son", "ton", "áudio", "som", "аудио", "звук", "الصوت", "صوت"}


def add(shot: Shot, name: str, value: str, label: str = "") -> None:
    """Give a field its text; a field already given gets the new text after it."""
    value = value.strip()
    if not value or is_placeholder(value):
        if label:
            shot.cells.setdefault(label, value)
        return
    if name == "number":
        shot.number = shot.number if shot.number is not None else shot_number(value)
        return
    if name == "both":
        parts = [p for p in _BOTH_SPLIT.split(value, maxsplit=1) if p]
        add(shot, "framing", parts[0])
        if len(parts) > 1:
            add(shot, "movement", parts[1])
        return
    if name == "time":
        set_span(shot, value)
        return
    if name == "audio" and label and normalise_title(label) not in _GENERIC_AUDIO:
        value = f"{plain(label)}: {value}"
    if name == "duration":
        span = time_span(value)
        if span and span[1] is not None:
            shot.start, shot.end = (shot.start, shot.end) if shot.start is not None else span
    current = getattr(shot, name)
    joiner = " + " if name == "duration" else ("; " if name == "audio" else " ")
    setattr(shot, name, f"{current}{joiner}{value}" if current else value)


def set_span(shot: Shot, text: str) -> None:
    """Start and end from a time code ("00:08–00:12"); the duration too when none is given."""
    span = time_span(text)
    if span is None:
        return
    if shot.start is None:
        shot.start, shot.end = span
    if span[1] is not None and not shot.duration:
        shot.duration = text.strip()


@lru_cache(maxsize=16384)
def labelled(text: str) -> tuple[str, str, str] | None:
    """(label, field, value) of a ``**Label:** value`` piece; field is "" for unknown labels."""
    cleaned = _BULLET.sub("", text)
    found = _LABEL.match(plain(cleaned))
    if not found or not _LETTER.search(found["label"]):
        return None
    label, value = found["label"].strip(), found["value"].strip()
    if "http" in label.casefold() or len(label.split()) > 4:
        return None
    return label, field_of(label) or "", value


def read_segment(shot: Shot, raw: str, context: str = "") -> str:
    """Read one piece of a block or opener into ``shot``; returns the field a bare label opens."""
    symbol = next((_BY_EMOJI[ch] for ch in raw[:4] if ch in _BY_EMOJI), "")
    found = labelled(raw)
    if found:
        label, name, value = found
        if name:
            if not value:
                return name
            add(shot, name, value, label)
            return ""
        if (
            not fields_of(label)
            and len(label) <= 24
            and (raw.lstrip().startswith(("*", "-")) or context == "" or len(value) < 200)
        ):
            shot.cells[label] = value
            return ""
    text = plain(raw)
    if not text:
        return symbol
    named = exact_field(text)
    if named and (named == symbol or (not symbol and raw.lstrip().startswith(("#", "*")))):
        return named  # "🎵 Audio": the lines below are the audio
    name = symbol or context or guess(shot, text)
    add(shot, name, text)
    return ""


def guess(shot: Shot, text: str) -> str:
    """The field a bare piece of text most likely is, from its words."""
    found = find_duration(text)
    if found and len(found) >= len(text) - 4:
        return "time" if time_span(found) and time_span(found)[1] is not None else "duration"  # type: ignore[index]
    if len(text) <= 40 and not shot.framing and FRAMINGS.match(text):
        return "framing"
    if len(text) <= 30 and not shot.movement and MOVES.search(text):
        return "movement"
    return "description"


def read_line(shot: Shot, line: str, context: str) -> str:
    """A body line of a shot block: one or several ``·``/``|``-separated pieces."""
    stripped = line.strip()
    if not any(mark in stripped for mark in _SEGMENT_MARKS):
        pieces = [stripped] if stripped else []
    else:
        pieces = [p for p in _SEGMENTS.split(stripped) if p.strip()]
    if len(pieces) > 1 and not any(labelled(p) for p in pieces) and line.lstrip()[:1] not in "📷🎥":
        pieces = [line]
    for piece in pieces:
        context = read_segment(shot, piece, context) or (context if len(pieces) == 1 else "")
    return context


def read_cell(shot: Shot, name: str | None, text: str) -> None:
    """One table cell: its column's field, or the fields its ``label：value`` lines name."""
    if "<" in text or ";" in text or "；" in text:
        parts = [p for p in _BREAKS.split(text) if p.strip()]
        named = [labelled(p) for p in parts]
        if len(parts) > 1 and all(n and n[1] for n in named):
            for found in named:
                assert found is not None
                add(shot, found[1], found[2], found[0])
            return
        text = _BR.sub(" ", text)
    if name is not None:
        add(shot, name, text)
