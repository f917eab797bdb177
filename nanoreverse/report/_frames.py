"""Frames from an MP4, with PyAV: seek to the keyframe before each moment, decode forward to it.

Frames are taken in time order from one open container, so each seek goes forward; only
the chosen frames are kept, already shrunk, so memory does not grow with the video.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import av
from PIL import Image

#: Width of a thumbnail, in pixels (height follows the video's shape).
THUMB_WIDTH = 320


class UnreadableVideo(Exception):
    """The file cannot be decoded as a video."""


def _shrink(image: Image.Image, width: int) -> Image.Image:
    if image.width <= width:
        return image
    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height), Image.Resampling.LANCZOS)


def video_length(path: Path) -> float:
    """The video's length in seconds, from its container."""
    try:
        with av.open(str(path)) as container:
            if container.duration is not None:
                return float(container.duration / av.time_base)
            stream = container.streams.video[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
    except (av.FFmpegError, IndexError, OSError) as exc:
        raise UnreadableVideo(str(exc)) from exc
    raise UnreadableVideo("the container does not say how long it is")


def frames_at(path: Path, moments: Sequence[float], width: int = THUMB_WIDTH) -> list[Image.Image]:
    """One frame per moment (seconds), each the last frame shown at or before it.

    >>> frames_at(Path("clip.mp4"), [0.0, 2.5])   # doctest: +SKIP
    """
    order = sorted(range(len(moments)), key=lambda i: moments[i])
    found: dict[int, Image.Image] = {}
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            base = stream.time_base
            assert base is not None
            for index in order:
                found[index] = _shrink(_frame_at(container, stream, moments[index], base), width)
    except (av.FFmpegError, IndexError, OSError, StopIteration) as exc:
        raise UnreadableVideo(str(exc) or type(exc).__name__) from exc
    return [found[i] for i in range(len(moments))]


def _frame_at(
    container: av.container.InputContainer,
    stream: av.VideoStream,
    moment: float,
    base: object,
) -> Image.Image:
    target = int(max(moment, 0.0) / base)  # type: ignore[operator]
    container.seek(target, stream=stream, backward=True, any_frame=False)
    chosen: av.VideoFrame | None = None
    for frame in container.decode(stream):
        if chosen is not None and frame.pts is not None and frame.pts > target:
            break
        chosen = frame
        if frame.pts is not None and frame.pts >= target:
            break
    if chosen is None:
        raise StopIteration
    image: Image.Image = chosen.to_image()  # type: ignore[no-untyped-call]
    return image
