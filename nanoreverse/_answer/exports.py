"""Shot lists in editors' formats: SRT and WebVTT cues, a CMX 3600 EDL, an OTIO timeline.

Each takes the shots with their time ranges (see ``_timeline.shot_ranges``: the model's
durations, fitted to the file's real length when it is known). Frame-based formats snap
each boundary to a whole frame once, so shots stay end to end with no gap or overlap.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from .shots import Shot

Ranges = Sequence[tuple[float, float]]


def _cue_text(shot: Shot) -> str:
    """Description, then framing and movement; one line each (a blank line ends a cue)."""
    look = " · ".join(part for part in (shot.framing, shot.movement) if part)
    lines = [shot.description, look]
    return "\n".join(" ".join(line.split()) for line in lines if line.strip()) or "(no text)"


def _clock(seconds: float, separator: str) -> str:
    millis = round(max(seconds, 0.0) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_srt(shots: Sequence[Shot], ranges: Ranges, *, note: str | None = None) -> str:
    """SubRip: one cue per shot. SubRip has no comments: a ``note`` (such as "made up by
    the emulator") opens the first cue's text, in brackets.

    Args:
        shots: The shots (``Analysis.shots``).
        ranges: Each shot's (start, end) in seconds (``shot_ranges``).
        note: A line to carry with the cues, or None.

    >>> print(to_srt([Shot(1, "Wide", "Static", "A car.")], [(0.0, 2.5)]))
    1
    00:00:00,000 --> 00:00:02,500
    A car.
    Wide · Static
    <BLANKLINE>
    """
    cues = [
        f"{n}\n{_clock(start, ',')} --> {_clock(end, ',')}\n"
        f"{f'[{note}]' + chr(10) if note and n == 1 else ''}{_cue_text(shot)}\n"
        for n, (shot, (start, end)) in enumerate(zip(shots, ranges, strict=True), 1)
    ]
    return "\n".join(cues)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(shots: Sequence[Shot], ranges: Ranges, *, note: str | None = None) -> str:
    """WebVTT: one cue per shot, its text escaped (``-->``, ``<`` and ``&`` are markup);
    a ``note`` goes in a NOTE block before the cues.

    Args:
        shots: The shots (``Analysis.shots``).
        ranges: Each shot's (start, end) in seconds (``shot_ranges``).
        note: A line for a NOTE block, or None.

    >>> print(to_vtt([Shot(1, description="A car.")], [(0.0, 2.5)], note="made up"))
    WEBVTT
    <BLANKLINE>
    NOTE made up
    <BLANKLINE>
    1
    00:00:00.000 --> 00:00:02.500
    A car.
    <BLANKLINE>
    """
    cues = [
        f"{n}\n{_clock(start, '.')} --> {_clock(end, '.')}\n{_vtt_escape(_cue_text(shot))}\n"
        for n, (shot, (start, end)) in enumerate(zip(shots, ranges, strict=True), 1)
    ]
    head = f"NOTE {' '.join(note.split()).replace('-->', '- ->')}\n\n" if note else ""
    return "WEBVTT\n\n" + head + "\n".join(cues)


def frames(ranges: Ranges, fps: float) -> list[tuple[int, int]]:
    """Each range as (first frame, frame after the last), end to end.

    >>> frames([(0.0, 1.01), (1.01, 2.0)], 25)
    [(0, 25), (25, 50)]
    """
    edges: list[int] = []
    for seconds in [start for start, _ in ranges] + [ranges[-1][1]] if ranges else []:
        # At least a frame each: a shot shorter than a frame would vanish from a timeline.
        edges.append(max(round(seconds * fps), edges[-1] + 1) if edges else round(seconds * fps))
    return list(itertools.pairwise(edges))


def _timecode(frame: int, base: int) -> str:
    seconds, ff = divmod(frame, base)
    minutes, ss = divmod(seconds, 60)
    hh, mm = divmod(minutes, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}:{ff:02d}"


def _edl_text(text: str) -> str:
    return " ".join(text.split())[:200]


def to_edl(
    title: str,
    clip: str,
    shots: Sequence[Shot],
    ranges: Ranges,
    fps: float,
    *,
    note: str | None = None,
) -> str:
    """A CMX 3600 EDL (non-drop frame): one cut event per shot, source = record time,
    with the clip name and the shot's text as comments (what Resolve and Premiere read);
    a ``note`` is a comment line before the events.

    Args:
        title: The EDL's title.
        clip: The clip name each event refers to (the video's file name).
        shots: The shots (``Analysis.shots``).
        ranges: Each shot's (start, end) in seconds (``shot_ranges``).
        fps: The video's frame rate; times are counted in its frames.
        note: A comment line before the events, or None.
    """
    base = max(1, round(fps))  # 29.97 counts as 30 in non-drop timecode
    lines = [f"TITLE: {_edl_text(title)[:70]}", "FCM: NON-DROP FRAME"]
    lines += [f"* {_edl_text(note)}", ""] if note else [""]
    spans = frames(ranges, fps)
    for n, (shot, (first, end)) in enumerate(zip(shots, spans, strict=True), 1):
        tc_in, tc_out = _timecode(first, base), _timecode(end, base)
        lines.append(f"{n:03d}  AX       V     C        {tc_in} {tc_out} {tc_in} {tc_out}")
        lines.append(f"* FROM CLIP NAME: {_edl_text(clip)}")
        lines.append(f"* COMMENT: SHOT {shot.number or n}: {_edl_text(_cue_text(shot))}")
        lines.append("")
    return "\n".join(lines)


def to_otio(
    title: str,
    target: str | None,
    shots: Sequence[Shot],
    ranges: Ranges,
    fps: float,
    *,
    note: str | None = None,
) -> Any:
    """An ``opentimelineio`` Timeline: one clip per shot on a video track, referring to
    the file (``target``, a URL) or to nothing for a link, the shot's text as metadata
    (and a ``note`` in the timeline's). Needs the ``otio`` extra.

    Args:
        title: The timeline's name.
        target: The video's URL (``file://…``), or None for a link.
        shots: The shots (``Analysis.shots``).
        ranges: Each shot's (start, end) in seconds (``shot_ranges``).
        fps: The video's frame rate.
        note: Kept in the timeline's metadata, or None.
    """
    import opentimelineio as otio

    timeline = otio.schema.Timeline(name=title)
    if note:
        timeline.metadata["nanoreverse"] = {"note": note}
    track = otio.schema.Track(name="shots", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    for n, (shot, (first, end)) in enumerate(zip(shots, frames(ranges, fps), strict=True), 1):
        reference = (
            otio.schema.ExternalReference(target_url=target)
            if target
            else otio.schema.MissingReference()
        )
        track.append(
            otio.schema.Clip(
                name=f"Shot {shot.number or n}",
                media_reference=reference,
                source_range=otio.opentime.TimeRange(
                    otio.opentime.RationalTime(first, fps),
                    otio.opentime.RationalTime(end - first, fps),
                ),
                metadata={"nanoreverse": shot.to_dict()},
            )
        )
    return timeline
