"""Small helpers shared by the tests."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from pathlib import Path

DATA = Path(__file__).parent / "data"
CLIPS = sorted(DATA.glob("*.mp4"))


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
