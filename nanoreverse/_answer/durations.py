"""Seconds from a duration cell, whatever the model wrote: "3s", "3.5 秒", "0:03–0:06"."""

from __future__ import annotations

import re

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


def parse_duration(text: str) -> float | None:
    """Seconds from a duration cell, or None when the form is unknown.

    >>> parse_duration("3.5 秒"), parse_duration("0:03–0:06"), parse_duration("about")
    (3.5, 3.0, None)
    """
    cleaned = re.sub(r"[*_`~()\[\]]|約|约|大约|approx\.?|about|ca\.|≈|~$", " ", text, flags=re.I)
    cleaned = " ".join(cleaned.translate(_DIGITS).split()).strip(" .")
    if not cleaned:
        return None
    single = _point(cleaned)
    if single is not None:
        return single
    ranged = _RANGE.match(cleaned)
    if ranged:
        start, end = _point(ranged["a"]), _point(ranged["b"])
        if start is not None and end is not None and end >= start:
            return round(end - start, 6)
    return None


def shot_number(text: str) -> int | None:
    """The number in a shot cell ("3", "#3", "Shot ３", "٣"), or None."""
    digits = re.search(r"\d+", text.translate(_DIGITS))
    return int(digits.group()) if digits else None
