"""When each shot happens: start and end from the shots' durations, fitted to the real length."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

# Durations that add up to within this share of the real length are taken as they are.
_TOLERANCE = 0.02


def shot_ranges(
    durations: Sequence[float | None], real_length: float | None
) -> list[tuple[float, float]]:
    """(start, end) of each shot, in seconds.

    A shot with no readable duration gets the average of the others. When the durations
    disagree with the video's real length, all are scaled to it (models' timings drift).

    Args:
        durations: Each shot's seconds (``Shot.duration_seconds``), None when unknown.
        real_length: The video's real length in seconds, or None when unknown.

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


def snap_to_cuts(
    ranges: Sequence[tuple[float, float]], cuts: Sequence[float], tolerance: float
) -> tuple[list[tuple[float, float]], list[float | None]]:
    """Move each boundary between two shots to the nearest real cut within ``tolerance``
    seconds; returns the new ranges and, per boundary, how far it moved (None: no cut
    near enough). Boundaries keep their order, and no cut serves two of them.

    Args:
        ranges: Each shot's (start, end) in seconds.
        cuts: The times of the video's real cuts (found by PySceneDetect, say).
        tolerance: How far a boundary may move, in seconds.

    >>> snap_to_cuts([(0.0, 2.2), (2.2, 5.0)], [2.0, 4.0], 0.5)
    ([(0.0, 2.0), (2.0, 5.0)], [-0.2])
    """
    if not ranges:
        return [], []
    edges = [start for start, _ in ranges] + [ranges[-1][1]]
    moves: list[float | None] = []
    free = sorted(cuts)
    for index in range(1, len(edges) - 1):
        low, high = edges[index - 1], edges[index + 1]
        near = [c for c in free if abs(c - edges[index]) <= tolerance and low < c < high]
        if not near:
            moves.append(None)
            continue
        cut = min(near, key=lambda c: abs(c - edges[index]))
        moves.append(round(cut - edges[index], 3))
        edges[index] = cut
        free.remove(cut)
    return [(round(a, 3), round(b, 3)) for a, b in itertools.pairwise(edges)], moves
