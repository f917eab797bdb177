"""What a parsed answer is: its shots and the text around them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .durations import parse_duration

#: The words the emulator opens each of its answers with: an answer holding them (near its
#: start) was made up on this machine, not written by the service.
MADE_UP = "Made up by the nanoreverse emulator"

# camera, audio, duration, the unit (singular, plural), the sentence end, the colon, decimal mark
_PROMPT_WORDS: dict[str, tuple[str, str, str, str, str, str, str, str]] = {
    "en": ("Camera", "Audio", "Duration", " second", " seconds", ". ", ": ", "."),
    "zh": ("运镜", "声音", "时长", "秒", "秒", "。", "：", "."),
    "zh-TW": ("運鏡", "聲音", "時長", "秒", "秒", "。", "：", "."),
    "ja": ("カメラ", "音声", "尺", "秒", "秒", "。", "：", "."),
    "ko": ("카메라", "오디오", "길이", "초", "초", ". ", ": ", "."),
    "es": ("Cámara", "Audio", "Duración", " segundo", " segundos", ". ", ": ", ","),
    "fr": ("Caméra", "Audio", "Durée", " seconde", " secondes", ". ", " : ", ","),
    "de": ("Kamera", "Audio", "Dauer", " Sekunde", " Sekunden", ". ", ": ", ","),
    "pt": ("Câmera", "Áudio", "Duração", " segundo", " segundos", ". ", ": ", ","),
    "ru": ("Камера", "Звук", "Длительность", " секунда", " секунд", ". ", ": ", ","),
    "ar": ("الكاميرا", "الصوت", "المدة", " ثانية", " ثوانٍ", ". ", ": ", "٫"),
}


def seconds_words(seconds: float, locale: str = "en") -> str:
    """A length in words with the right plural: "1 second", "2,5 Sekunden", "3 секунды".

    >>> seconds_words(1), seconds_words(2.5, "de"), seconds_words(3, "ru"), seconds_words(4, "ja")
    ('1 second', '2,5 Sekunden', '3 секунды', '4秒')
    """
    words = _PROMPT_WORDS.get(locale, _PROMPT_WORDS["en"])
    number = f"{seconds:g}".replace(".", words[7])
    one, many = words[3], words[4]
    if locale == "ru":
        whole = int(seconds)
        if seconds != whole:
            return f"{number} секунды"
        if whole % 10 == 1 and whole % 100 != 11:
            return f"{number}{one}"
        if 2 <= whole % 10 <= 4 and not 12 <= whole % 100 <= 14:
            return f"{number} секунды"
        return f"{number}{many}"
    if locale == "ar":
        return f"{number}{many if 3 <= seconds <= 10 and seconds == int(seconds) else one}"
    if locale == "fr":
        return f"{number}{one if seconds < 2 else many}"
    return f"{number}{one if seconds == 1 else many}"


@dataclass
class Shot:
    """One shot of the answer, whatever layout the model wrote it in.

    Attributes:
        number: The shot's number (``S01``, ``镜头 3`` and ``#3`` are read as numbers).
        framing: Shot size and angle ("Wide shot, eye level").
        movement: Camera movement ("Slow dolly in").
        description: What is seen.
        audio: Music, sound effects and voice.
        duration: The duration as written ("3s", "0:03–0:06", "3 秒").
        cells: Every column title or label the answer used, with its text.
        start: Seconds into the video where it starts, when the answer gives time codes.
        end: Seconds into the video where it ends, likewise.
        locale: The language of the answer it came from.

    >>> Shot(number=1, framing="Wide shot", duration="3s").duration_seconds
    3.0
    """

    number: int | None = None
    framing: str = ""
    movement: str = ""
    description: str = ""
    audio: str = ""
    duration: str = ""
    #: Every column title or label → its text, unknown ones included.
    cells: dict[str, str] = field(default_factory=dict)
    #: Seconds into the video, when the answer gives time codes.
    start: float | None = None
    end: float | None = None
    #: The language the answer is written in (one of ``nanoreverse.LOCALES``).
    locale: str = "en"

    @property
    def duration_seconds(self) -> float | None:
        """Seconds this shot lasts: from its duration, else from its time codes."""
        seconds = parse_duration(self.duration) if self.duration else None
        if seconds is None and self.start is not None and self.end is not None:
            seconds = round(self.end - self.start, 6)
        return seconds

    def prompt(self) -> str:
        """A text-to-video prompt for regenerating this shot, in the answer's language.

        >>> Shot(framing="Wide shot", movement="slow dolly in", description="A red car",
        ...      duration="3s").prompt()
        'A red car. Wide shot. Camera: slow dolly in. Duration: 3 seconds.'
        """
        words = _PROMPT_WORDS.get(self.locale, _PROMPT_WORDS["en"])
        camera, audio, duration, *_, end, colon, _mark = words
        stop = end.strip()
        description = self.description.rstrip(". 。")
        parts = [description[:1].upper() + description[1:]] if description else []
        if self.framing:
            parts.append(self.framing.rstrip(". 。"))
        if self.movement:
            parts.append(f"{camera}{colon}{self.movement.rstrip('. 。')}")
        if self.audio:
            parts.append(f"{audio}{colon}{self.audio.rstrip('. 。')}")
        seconds = self.duration_seconds
        if seconds is not None:
            parts.append(f"{duration}{colon}{seconds_words(seconds, self.locale)}")
        if not parts:
            parts = [f"{title}{colon}{text}" for title, text in self.cells.items() if text]
        return end.join(parts) + stop if parts else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "framing": self.framing,
            "movement": self.movement,
            "description": self.description,
            "audio": self.audio,
            "duration": self.duration,
            "duration_seconds": self.duration_seconds,
            "start": self.start,
            "end": self.end,
            "cells": dict(self.cells),
            "prompt": self.prompt(),
        }


@dataclass
class Analysis:
    """A parsed answer: its shots, the text around them, and the original Markdown.

    When no shot list is found, ``shots`` is empty and the whole text is in ``summary``:
    parsing never raises and never loses text.

    Attributes:
        shots: The shots, in order, each once.
        summary: Every line that is not part of a shot (headings, the summary, other tables).
        markdown: The answer as it came.
        locale: The language it is written in, one of ``nanoreverse.LOCALES``.

    >>> table = "| Shot | Duration | Camera |\\n|---|---|---|\\n| 1 | 3s | Pan |\\n"
    >>> nr.parse_analysis(table).shots[0].number
    1
    """

    shots: list[Shot]
    summary: str
    markdown: str
    #: The language the answer is written in, as one of ``nanoreverse.LOCALES``.
    locale: str = "en"

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
            "locale": self.locale,
            "shots": [shot.to_dict() for shot in self.shots],
            "summary": self.summary,
            "markdown": self.markdown,
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)
