"""When each shot happens: start and end from the shots' durations, fitted to the real length."""

from __future__ import annotations

from collections.abc import Sequence

# Durations that add up to within this share of the real length are taken as they are.
_TOLERANCE = 0.02


def shot_ranges(
    durations: Sequence[float | None], real_length: float | None
) -> list[tuple[float, float]]:
    """(start, end) of each shot, in seconds.

    A shot with no readable duration gets the average of the others. When the durations
    disagree with the video's real length, all are scaled to it (models' timings drift).

    >>> shot_ranges([2.0, 2.0], 8.0)
    [(0.0, 4.0), (4.0, 8.0)]
    """
    known = [d for d in durations if d is not None and d > 0]
    fallback = sum(known) / len(known) if known else 1.0
    lengths = [d if d is not None and d > 0 else fallback for d in durations]
    total = sum(lengths)
    if real_length and total and abs(total - real_length) > _TOLERANCE * real_length:
        lengths = [length * real_length / total for length in lengths]
    ranges, start = [], 0.0
    for length in lengths:
        ranges.append((round(start, 3), round(start + length, 3)))
        start += length
    return ranges


def timecode(seconds: float) -> str:
    """``m:ss.s``, as the pages show times.

    >>> timecode(75.25)
    '1:15.2'
    """
    minutes, rest = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes)}:{rest:04.1f}"
