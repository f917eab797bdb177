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
    movflags: str = "+faststart",
) -> Path:
    """An MP4 whose second N is ``colours[N % len(colours)]``; ``noise`` bytes of random
    pixels per frame (encoded at a high quality) make it as large as a test needs.

    ``movflags`` as FFmpeg's: ``frag_keyframe+empty_moov`` writes a fragmented MP4, as
    OBS and many recorders do; ``""`` leaves ``moov`` at the end.

    >>> make_video(Path("v.mp4"), seconds=12, colours=[(255, 0, 0), (0, 255, 0)])  # doctest: +SKIP
    """
    codec = "mpeg4" if noise else "libx264"
    options = {"movflags": movflags} if movflags else {}
    with av.open(str(path), "w", format="mp4", options=options) as container:
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


def make_audio(path: Path, *, seconds: float, movflags: str = "+faststart") -> Path:
    """An MP4 holding one AAC sound track and no video: a tone of ``seconds``.

    >>> make_audio(Path("voice.mp4"), seconds=3)                          # doctest: +SKIP
    """
    import numpy

    rate = 16_000
    options = {"movflags": movflags} if movflags else {}
    with av.open(str(path), "w", format="mp4", options=options) as container:
        stream = container.add_stream("aac", rate=rate)
        stream.layout = "mono"
        samples = int(seconds * rate)
        wave = (numpy.sin(numpy.arange(samples) * 440 * 6.283 / rate) * 0.2).astype("float32")
        for start in range(0, samples, 1024):
            chunk = wave[start : start + 1024].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = rate, start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path
