"""The checks a video passes before it is sent: size, container, tracks, the text of a
link. Each raises the error class the server would, with ``preflight=True``."""

from __future__ import annotations

from .._config import MAX_UPLOAD_BYTES
from .._errors import FileTooLargeError, InvalidFormatError, InvalidRequestError
from .mp4 import track_kinds


def is_mp4_header(head: bytes) -> bool:
    """An MP4 (ISO base media) file starts with a box whose type, at byte 4, is ``ftyp``."""
    return len(head) >= 8 and head[4:8] == b"ftyp"


def check_upload_size(size: int, name: str) -> None:
    if size == 0:
        raise InvalidFormatError(f"{name} is empty; upload an MP4 video", preflight=True)
    if size > MAX_UPLOAD_BYTES:
        raise FileTooLargeError(
            f"{name} is {size / 2**20:.1f} MiB ({size} bytes); the API accepts at most "
            f"30 MiB ({MAX_UPLOAD_BYTES} bytes) per upload. Shorten or re-encode it, "
            "or host it and pass the URL instead",
            preflight=True,
        )


def check_mp4(head: bytes, name: str) -> None:
    if not is_mp4_header(head):
        raise InvalidFormatError(
            f"{name} is not an MP4 file (no 'ftyp' box at its start); only MP4 can be uploaded",
            preflight=True,
        )


def check_tracks(moov: bytes | None, name: str) -> None:
    """An MP4 whose moov holds tracks, none of them video (a sound recording), is refused:
    the service analyses pictures, and would take the credit to say so."""
    kinds = track_kinds(moov) if moov is not None else set()
    if kinds and "vide" not in kinds:
        raise InvalidFormatError(
            f"{name} has no video track (its tracks: {', '.join(sorted(kinds))}); the API "
            "analyses video, so nothing was sent",
            preflight=True,
        )


def check_text(url: object, error: type[InvalidRequestError]) -> None:
    if not isinstance(url, str):
        raise error(f"the URL must be text, got {type(url).__name__}", preflight=True)


def safe_filename(name: str) -> str:
    # A path from os.listdir may carry lone surrogates (undecodable bytes); JSON needs real text.
    return name.encode("utf-8", "replace").decode("utf-8") or "video.mp4"
