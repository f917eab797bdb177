"""Real MP4 files for tests and benchmarks of the storyboard (needs the ``report`` extra).

Not imported by ``nanoreverse.testing`` itself: import it from here when PyAV is installed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import av
from PIL import Image


def make_video(
    path: Path,
    *,
    seconds: float,
    fps: int = 10,
    size: tuple[int, int] = (160, 96),
    colours: Sequence[tuple[int, int, int]] = ((200, 40, 40),),
    noise: int = 0,
    keyframe_every: float = 2.0,
) -> Path:
    """An MP4 whose second N is ``colours[N % len(colours)]``; ``noise`` bytes of random
    pixels per frame (encoded at a high quality) make it as large as a test needs.

    >>> make_video(Path("v.mp4"), seconds=12, colours=[(255, 0, 0), (0, 255, 0)])  # doctest: +SKIP
    """
    codec = "mpeg4" if noise else "libx264"
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.codec_context.gop_size = max(1, int(keyframe_every * fps))
        if noise:
            stream.codec_context.options = {"qscale": "1"}
        else:
            stream.codec_context.options = {"preset": "veryfast", "crf": "30", "bframes": "0"}
        for index in range(int(seconds * fps)):
            image = Image.new("RGB", size, colours[(index // fps) % len(colours)])
            if noise:
                block = Image.frombytes(
                    "RGB", (size[0], noise // (3 * size[0]) or 1), os.urandom(noise)
                )
                image.paste(block, (0, 0))
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path
