"""Seconds from a duration cell, whatever the model wrote: "3s", "3.5 秒", "0:03–0:06"."""

from __future__ import annotations

import re
from functools import lru_cache

_DIGITS = str.maketrans(
    "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹０１２３４５６７８９٫，",
    "012345678901234567890123456789.,",
)

_UNIT_SECONDS = (
    r"s|sec|secs|second|seconds|秒|秒钟|秒鐘|초|с|сек|секунд[аы]?|seg|segs|segundo|segundos|"
    r"sek|sekunde|sekunden|ث|ثانية|ثوان|ثوانٍ|ثواني"
)
_UNIT_MINUTES = (
    r"m|min|mins|minute|minutes|分|分钟|分鐘|분|мин|минут[аы]?|minuto|minutos|minuten|دقيقة|دقائق"
)
_NUMBER = r"\d+(?:[.,]\d+)?"
_NOISE = re.compile(
    r"[*_`()\[\]（）「」]|~~|約|约|大约|大約|approx\.?|about|ca\.|≈|[~～]$|^[~～]", re.I
)
_T_PREFIX = re.compile(r"(?<![^\W\d_])t(?=\d)")  # "t0.0s~t3.0s"
_CLOCK_TEXT = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
_UNIT_TEXT = rf"(?:{_UNIT_SECONDS})(?![^\W\d_])"
_DASH = r"\s*(?:[–—~〜～-]|至|到)\s*"
_FIND = re.compile(
    rf"{_CLOCK_TEXT}{_DASH}{_CLOCK_TEXT}"
    rf"|t?{_NUMBER}\s*(?:{_UNIT_SECONDS})?{_DASH}t?{_NUMBER}\s*{_UNIT_TEXT}"
    rf"|(?<![\d.,:])(?:约|~|≈)?{_NUMBER}\s*{_UNIT_TEXT}",
    re.IGNORECASE,
)
_AMOUNT = re.compile(
    rf"^(?:(?P<min>{_NUMBER})\s*(?:{_UNIT_MINUTES})\.?\s*)?"
    rf"(?:(?P<sec>{_NUMBER})\s*(?:{_UNIT_SECONDS})?\.?)?$",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:[.,]\d+)?)$")
_RANGE = re.compile(
    r"^(?P<a>.+?)\s*(?:[–—~〜～-]|至|到|إلى|\s(?:to|a|à|bis|до)\s)\s*(?P<b>.+)$", re.IGNORECASE
)


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _point(text: str) -> float | None:
    clock = _CLOCK.match(text)
    if clock:
        hours, minutes, seconds = clock.groups()
        return int(hours or 0) * 3600 + int(minutes) * 60 + _number(seconds)
    amount = _AMOUNT.match(text)
    if amount and (amount["min"] or amount["sec"]):
        minutes = _number(amount["min"]) if amount["min"] else 0.0
        seconds = _number(amount["sec"]) if amount["sec"] else 0.0
        return minutes * 60 + seconds
    return None


def _clean(text: str) -> str:
    cleaned = _NOISE.sub(" ", text)
    cleaned = _T_PREFIX.sub("", cleaned.translate(_DIGITS))
    return " ".join(cleaned.split()).strip(" .:：")


@lru_cache(maxsize=16384)
def parse_duration(text: str) -> float | None:
    """Seconds from a duration cell, or None when the form is unknown.

    A range (``0:03–0:06``, ``0–4秒``) lasts end − start; ``2s + 1.5s`` (merged rows) adds up.

    >>> parse_duration("3.5 秒"), parse_duration("0:03–0:06"), parse_duration("about")
    (3.5, 3.0, None)
    """
    cleaned = _clean(text)
    if not cleaned:
        return None
    if "+" in cleaned:
        parts = [parse_duration(part) for part in cleaned.split("+")]
        known = [p for p in parts if p is not None]
        return round(sum(known), 6) if known and len(known) == len(parts) else None
    single = _point(cleaned)
    if single is not None:
        return single
    span = time_span(cleaned)
    if span is not None and span[1] is not None:
        return round(span[1] - span[0], 6)
    return None


@lru_cache(maxsize=16384)
def time_span(text: str) -> tuple[float, float | None] | None:
    """(start, end) of a time code cell: a range gives both, a single point only the start.

    >>> time_span("00:08–00:12"), time_span("t2.5s"), time_span("soon")
    ((8.0, 12.0), (2.5, None), None)
    """
    cleaned = _clean(text)
    if not cleaned:
        return None
    ranged = _RANGE.match(cleaned)
    if ranged:
        start, end = _point(ranged["a"]), _point(ranged["b"])
        if start is not None and end is not None and end >= start:
            return start, end
    single = _point(cleaned)
    return (single, None) if single is not None else None


@lru_cache(maxsize=16384)
def find_duration(text: str) -> str | None:
    """The part of a longer text that gives a duration or a time range, or None.

    >>> find_duration("G01 · 0–4秒"), find_duration("0:00–0:05 · **5 с**"), find_duration("3 cats")
    ('0–4秒', '0:00–0:05', None)
    """
    translated = text.translate(_DIGITS)
    found = _FIND.search(translated)
    return text[found.start() : found.end()].strip() if found else None


def shot_number(text: str) -> int | None:
    """The number in a shot cell ("3", "#3", "Shot ３", "٣"), or None."""
    digits = re.search(r"\d+", text.translate(_DIGITS))
    return int(digits.group()) if digits else None
