"""The emulator's answers: deterministic Markdown shot lists in the requested locale.

Same video → same answer. The video's length comes from its MP4 ``mvhd`` box
(or, for links and files without one, from its hash: 6 to 45 s); it is cut
into ``shot_count(duration)`` shots whose lengths, framings and movements are
picked by the video's sha256. Tests can predict the shot count and the total
duration from :func:`plan_shots`.
"""

from __future__ import annotations

import hashlib

from .._answer.model import MADE_UP
from ._styles import PlannedShot, render, style_for
from ._words import words_for


def seed_of(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def duration_from_seed(seed: bytes) -> float:
    """A stand-in length for videos whose real length is unknown (links): 6–45 s."""
    return 6.0 + int.from_bytes(seed[:2], "big") % 40


def shot_count(duration: float) -> int:
    """One shot per 2.5 s of video, at least 1 and at most 12.

    Args:
        duration: The video's length in seconds.
    """
    return max(1, min(12, round(duration / 2.5)))


def plan_shots(seed: bytes, duration: float) -> list[float]:
    """Per-shot lengths (0.1 s steps) that add up to ``duration`` rounded to 0.1 s.

    Args:
        seed: The video's sha256 (of its bytes, or of a link's canonical URL).
        duration: The video's length in seconds.
    """
    count = shot_count(duration)
    tenths = max(round(duration * 10), count)
    weights = [2 + seed[i % len(seed)] % 5 for i in range(count)]
    parts = [max(1, tenths * w // sum(weights)) for w in weights]
    parts[-1] += tenths - sum(parts)
    if parts[-1] < 1:  # rounding took too much from the last shot: even them out
        parts = [tenths // count] * count
        parts[-1] += tenths - sum(parts)
    return [p / 10 for p in parts]


def plan_answer(seed: bytes, duration: float, locale: str) -> list[PlannedShot]:
    """The shots the answer describes: lengths from :func:`plan_shots`, words from the hash."""
    words = words_for(locale)
    shots, start = [], 0.0
    for index, length in enumerate(plan_shots(seed, duration)):
        pick = seed[(index * 4) % len(seed) : (index * 4) % len(seed) + 4].ljust(4, b"\0")
        shots.append(
            PlannedShot(
                index + 1,
                words.framings[pick[0] % 6],
                words.movements[pick[1] % 6],
                words.subjects[pick[2] % 6],
                words.audio[pick[3] % 6],
                round(start, 1),
                length,
            )
        )
        start += length
    return shots


def render_answer(seed: bytes, duration: float, locale: str, style: str = "table") -> str:
    """The whole Markdown answer for a video, in ``style`` (see ``_styles``)."""
    words = words_for(locale)
    shots = plan_answer(seed, duration, locale)
    total = round(sum(shot.length for shot in shots), 1)
    summary = words.summary.format(seconds=f"{total:g}", shots=len(shots))
    mark = f"> {MADE_UP} on this machine: not an analysis of this video.\n\n"
    return mark + render(style_for(style, seed), words, locale, shots, summary)


def seeded_answer(
    seed_source: bytes, locale: str, duration: float | None = None, style: str = "table"
) -> tuple[float, str]:
    """The answer for a link's canonical URL (or a video's bytes) and the length it describes:
    ``duration`` when known, else a stand-in drawn from the seed."""
    seed = seed_of(seed_source)
    duration = duration or duration_from_seed(seed)
    return duration, render_answer(seed, duration, locale, style)
