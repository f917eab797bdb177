"""Small helpers shared by the tests."""

from __future__ import annotations

import hashlib
import socket
import struct
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import nanoreverse as nr
from nanoreverse.testing import Emulator, InstantClock

DATA = Path(__file__).parent / "data"
CLIPS = sorted(DATA.glob("*.mp4"))
SECRET = "sk-live-SECRET-0123456789"  # a key that must never show in any output
YT = "https://youtu.be/W-15-UmGP5s"  # a YouTube link; the emulator answers any of them

# The vendor's table: errorCode, the HTTP status it comes with, the class the client raises.
ERRORS: list[tuple[str, int, type[nr.APIError]]] = [
    ("LOGIN_REQUIRED", 401, nr.AuthenticationError),
    ("API_KEY_RATE_LIMIT_EXCEEDED", 429, nr.RateLimitError),
    ("INSUFFICIENT_CREDITS", 402, nr.InsufficientCreditsError),
    ("INVALID_INPUT", 400, nr.InvalidInputError),
    ("INVALID_YOUTUBE_URL", 400, nr.InvalidYouTubeURLError),
    ("INVALID_VIDEO_URL", 400, nr.InvalidVideoURLError),
    ("INVALID_FORMAT", 400, nr.InvalidFormatError),
    ("FILE_TOO_LARGE", 400, nr.FileTooLargeError),
    ("VIDEO_DOWNLOAD_FAILED", 400, nr.VideoDownloadError),
    ("VIDEO_PROCESSING_FAILED", 422, nr.VideoProcessingError),
    ("AI_SERVICE_ERROR", 503, nr.ServiceUnavailableError),
    ("SERVICE_UNAVAILABLE", 503, nr.ServiceUnavailableError),
    ("INTERNAL_ERROR", 500, nr.InternalServerError),
]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def mp4_head(duration: float = 10.0, timescale: int = 1000) -> bytes:
    """An ftyp box and a moov box whose mvhd says ``duration`` seconds."""
    ftyp = box(b"ftyp", b"isom\0\0\2\0isomiso2mp41")
    mvhd = box(
        b"mvhd",
        bytes(4) + struct.pack(">IIII", 0, 0, timescale, int(duration * timescale)) + bytes(80),
    )
    return ftyp + box(b"moov", mvhd)


def make_mp4(path: Path, size: int, duration: float = 10.0) -> Path:
    """A structurally valid MP4 of exactly ``size`` bytes (an mdat of filler after the header).

    The filler is written sparsely, so a 30 MiB file costs no time to make.
    """
    head = mp4_head(duration)
    mdat_size = size - len(head)
    assert mdat_size >= 8
    with path.open("wb") as handle:
        handle.write(head + struct.pack(">I4s", mdat_size, b"mdat"))
        handle.truncate(size)
    return path


def need(component: str, how: str) -> None:
    """Skip a test that needs a missing component, except under CI, where it fails."""
    import os

    import pytest

    message = f"needs {component}: {how}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI must run this test, not skip it)")
    pytest.skip(message)


async def eventually(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait until ``predicate()`` holds (state of a server the test cannot be told about)."""
    import anyio

    with anyio.fail_after(timeout):
        while not predicate():  # noqa: ASYNC110 - nothing to wait on but the state itself
            await anyio.sleep(0.005)


#: The colour of each second of ``colours_12s.mp4`` (made by :func:`make_colour_clip`).
COLOURS = [
    (230, 25, 75),
    (60, 180, 75),
    (255, 225, 25),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
    (210, 245, 60),
    (250, 190, 212),
    (0, 128, 128),
    (170, 110, 40),
]


def make_colour_clip(path: Path, *, fps: int = 10, size: tuple[int, int] = (160, 96)) -> Path:
    """A 12 s H.264 MP4 whose second N is solid ``COLOURS[N]``, a keyframe every 2 s.

    Made once and committed as ``tests/data/colours_12s.mp4``; kept here to remake it.
    """
    import av
    from PIL import Image

    with av.open(str(path), "w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.codec_context.gop_size = 2 * fps
        stream.codec_context.options = {"preset": "veryslow", "crf": "30", "bframes": "0"}
        for index in range(len(COLOURS) * fps):
            image = Image.new("RGB", size, COLOURS[index // fps])
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def client_for(emulator: Emulator, store: nr.Store | None, **kwargs: object) -> nr.AsyncClient:
    """A client of the in-process emulator through ``store``: no limit, no real waits."""
    kwargs.setdefault("clock", InstantClock())
    return nr.AsyncClient(
        emulator.api_key,
        base_url=emulator.base_url,
        rate_limit=None,
        store=store,
        **kwargs,  # type: ignore[arg-type]
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, server: subprocess.Popen[bytes], what: str) -> None:
    """Wait until ``server`` (a process just started) accepts connections on ``port``;
    fails at once if it exits, with what it wrote on stderr."""
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if server.poll() is not None:
                stderr = server.stderr.read().decode(errors="replace") if server.stderr else ""
                raise AssertionError(f"{what} exited: {stderr}") from None
            assert time.monotonic() < deadline, f"{what} did not start"
            time.sleep(0.1)
