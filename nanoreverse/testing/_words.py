"""The emulator's vocabulary, per locale: column titles and the words of its made-up shots.

The words live in ``words.json`` beside this module (data, not code): for each of the
11 locales, the titles of the six columns, the summary heading and a time-code column,
the seconds unit, a sentence before a fenced answer, a totals line, and six framings,
camera moves, subjects and sounds the emulator picks from by the video's hash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Words:
    titles: dict[str, str]  # shot, framing, movement, description, audio, duration, summary, time
    seconds_unit: str
    preamble: str
    totals: str  # {shots} and {seconds}
    framings: tuple[str, ...]
    movements: tuple[str, ...]
    subjects: tuple[str, ...]
    audio: tuple[str, ...]
    summary: str  # {shots} and {seconds}

    def seconds(self, value: float) -> str:
        return f"{value:.1f}{self.seconds_unit}"


@cache
def _all() -> dict[str, Words]:
    data = json.loads((Path(__file__).parent / "words.json").read_text(encoding="utf-8"))
    return {locale: _words(entry) for locale, entry in data.items()}


def _words(entry: dict[str, Any]) -> Words:
    lists = ("framings", "movements", "subjects", "audio")
    fields: dict[str, Any] = {k: tuple(v) if k in lists else v for k, v in entry.items()}
    return Words(**fields)


def words_for(locale: str) -> Words:
    """The words of ``locale`` (English for a locale the emulator does not know)."""
    table = _all()
    return table.get(locale, table["en"])


def column_titles(locale: str) -> tuple[str, ...]:
    """Shot, framing, movement, description, audio, duration, then the summary heading."""
    titles = words_for(locale).titles
    names = ("shot", "framing", "movement", "description", "audio", "duration", "summary")
    return tuple(titles[name] for name in names)
