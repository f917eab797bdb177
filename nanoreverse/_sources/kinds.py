"""What a video can be (YouTube link, URL, local file, bytes) and the checks made before sending it.

Every check here runs before any network traffic, and raises the same error
class the server would, with ``preflight=True``: a mistake costs no credit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from .._errors import (
    InvalidInputError,
    InvalidVideoURLError,
    InvalidYouTubeURLError,
)
from .checks import (
    check_mp4,
    check_text,
    check_tracks,
    check_upload_size,
    safe_filename,
)
from .fileio import NotRegularFile, Stamp, open_regular, read_into
from .mp4 import find_moov
from .urls import normalise_url, url_kind, video_url_problem, youtube_video_id


@dataclass(frozen=True)
class Upload:
    """A video to send inline: a file on disk (read in pieces) or bytes in memory.

    Attributes:
        size: Its size in bytes.
        filename: The name sent as ``videoFileName``.
        path: The file on disk, or None for bytes in memory.
        data: The bytes in memory, or None for a file.
        stamp: The file as preflight saw it; the upload stops if it differs by then.

    >>> (await nr.VideoFile("clip.mp4").prepare()).upload.size   # doctest: +SKIP
    1048576
    """

    size: int
    filename: str
    path: Path | None = None
    data: bytes | None = field(default=None, repr=False)
    #: The file as preflight saw it; the upload stops if it differs by then.
    stamp: Stamp | None = None


@dataclass(frozen=True)
class Prepared:
    """A source that passed preflight: the JSON fields to send, and the upload if any.
    ``source.prepare()`` makes one, and checks everything that needs no network.

    >>> (await nr.YouTube("https://youtu.be/W-15-UmGP5s").prepare()).fields["videoSource"]
    'youtube'
    """

    fields: dict[str, str]
    upload: Upload | None = None


@dataclass(frozen=True)
class YouTube:
    """A YouTube video, by link.

    Accepted: ``watch?v=ID`` (www., m., music. or no subdomain; http or https; a
    ``list=`` or ``t=`` beside it), ``youtu.be/ID``, ``/shorts/ID``, ``/embed/ID``,
    ``/live/ID`` and ``youtube-nocookie.com/embed/ID``. The API is sent the
    canonical ``https://www.youtube.com/watch?v=ID``, so tracking parameters never
    leave the machine and the same video is always asked for the same way.

    >>> YouTube("https://youtu.be/W-15-UmGP5s").canonical_url
    'https://www.youtube.com/watch?v=W-15-UmGP5s'
    """

    url: str

    @property
    def video_id(self) -> str | None:
        return youtube_video_id(self.url)

    @property
    def canonical_url(self) -> str | None:
        video_id = self.video_id
        return f"https://www.youtube.com/watch?v={video_id}" if video_id else None

    async def prepare(self) -> Prepared:
        check_text(self.url, InvalidYouTubeURLError)
        canonical = self.canonical_url
        if canonical is None:
            raise InvalidYouTubeURLError(
                f"{self.url!r} is not a link to one YouTube video; use a link such as "
                "https://www.youtube.com/watch?v=VIDEO_ID or https://youtu.be/VIDEO_ID "
                "(channel and playlist links are not accepted)",
                preflight=True,
            )
        return Prepared({"videoSource": "youtube", "videoUrl": canonical})

    def __str__(self) -> str:
        return self.url


@dataclass(frozen=True)
class VideoURL:
    """A video file on the web that the API downloads itself (a direct ``.mp4`` link).

    >>> VideoURL("https://cdn.example.com/ad.mp4")
    VideoURL(url='https://cdn.example.com/ad.mp4')
    """

    url: str

    @property
    def normalised_url(self) -> str:
        """The URL as the store names it: equal for links that differ only in case of
        the host, a default port, or an empty query (``url:`` keys).

        >>> VideoURL("HTTPS://CDN.example.com:443/ad.mp4?").normalised_url
        'https://cdn.example.com/ad.mp4'
        """
        return normalise_url(self.url)

    async def prepare(self) -> Prepared:
        check_text(self.url, InvalidVideoURLError)
        problem = video_url_problem(self.url)
        if problem is not None:
            raise InvalidVideoURLError(f"{self.url!r}: {problem}", preflight=True)
        return Prepared({"videoSource": "url", "videoUrl": self.url.strip()})

    def __str__(self) -> str:
        return self.url


@dataclass(frozen=True)
class VideoFile:
    """A local MP4 file, streamed from disk in pieces (never held whole in memory).

    >>> VideoFile("ads/spring.mp4").path
    PosixPath('ads/spring.mp4')
    """

    path: Path

    def __init__(self, path: str | os.PathLike[str]) -> None:
        object.__setattr__(self, "path", Path(path))

    async def prepare(self) -> Prepared:
        name = str(self.path)
        try:
            fd, info = open_regular(self.path)
        except FileNotFoundError:
            hint = " (only http:// and https:// URLs are sent as URLs)" if "://" in name else ""
            raise InvalidInputError(f"no file at {name}{hint}", preflight=True) from None
        except NotRegularFile as exc:
            hint = " (the command line takes folders)" if exc.kind == "a folder" else ""
            raise InvalidInputError(
                f"{name} is {exc.kind}; give a video file{hint}", preflight=True
            ) from None
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise InvalidInputError(f"cannot read {name}: {reason}", preflight=True) from None

        async def read_at(offset: int, length: int) -> bytes:
            buffer = bytearray(length)
            got = await read_into(fd, memoryview(buffer), offset)
            return bytes(buffer[:got])

        try:
            check_upload_size(info.st_size, name)
            check_mp4(await read_at(0, 12), name)
            moov = await find_moov(read_at, info.st_size)
        except OSError as exc:
            raise InvalidInputError(f"cannot read {name}: {exc.strerror}", preflight=True) from None
        finally:
            os.close(fd)
        check_tracks(moov, name)
        filename = safe_filename(self.path.name)
        return Prepared(
            {"videoSource": "file", "videoFileName": filename},
            Upload(info.st_size, filename, path=self.path, stamp=Stamp.of(info)),
        )

    def __str__(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class VideoBytes:
    """An MP4 video already in memory.

    Attributes:
        data: The MP4 file's bytes.
        filename: The name sent with it.

    >>> VideoBytes(b"...", filename="clip.mp4").filename
    'clip.mp4'
    """

    data: bytes = field(repr=False)
    filename: str = "clip.mp4"

    async def prepare(self) -> Prepared:
        if not isinstance(self.data, bytes | bytearray | memoryview):
            raise InvalidInputError(
                f"VideoBytes takes the video as bytes, got {type(self.data).__name__}",
                preflight=True,
            )
        if not isinstance(self.filename, str):
            raise InvalidInputError(
                f"VideoBytes' filename must be text, got {type(self.filename).__name__}",
                preflight=True,
            )
        check_upload_size(len(self.data), self.filename)
        check_mp4(self.data[:12], self.filename)
        view = memoryview(self.data).cast("B")

        async def read_at(offset: int, length: int) -> bytes:
            return bytes(view[offset : offset + length])

        check_tracks(await find_moov(read_at, len(view)), self.filename)
        filename = safe_filename(self.filename)
        return Prepared(
            {"videoSource": "file", "videoFileName": filename},
            Upload(size=len(self.data), filename=filename, data=self.data),
        )

    def __str__(self) -> str:
        return self.filename


# Real objects at run time (isinstance and get_type_hints work), not strings.
Source: TypeAlias = YouTube | VideoURL | VideoFile | VideoBytes
if TYPE_CHECKING:
    SourceLike: TypeAlias = Source | str | os.PathLike[str]
else:
    # Python 3.10's isinstance refuses a union holding a parameterised generic: at run
    # time the alias names os.PathLike bare, so isinstance(x, nr.SourceLike) works on all.
    SourceLike = Source | str | os.PathLike


def as_source(value: SourceLike) -> Source:
    """Read anything that names a video as a Source.

    A YouTube link gives YouTube, another http(s) URL gives VideoURL, anything
    else is a local path (VideoFile).

    Args:
        value: A Source, a string or a path.

    >>> as_source("https://youtu.be/W-15-UmGP5s")
    YouTube(url='https://youtu.be/W-15-UmGP5s')
    """
    if isinstance(value, Source):
        return value
    if isinstance(value, str):
        kind = url_kind(value)
        if kind == "youtube":
            return YouTube(value)
        return VideoURL(value) if kind == "url" else VideoFile(value)
    if isinstance(value, os.PathLike):
        return VideoFile(value)
    raise TypeError(
        f"expected a video source (a path, a URL, or nanoreverse.YouTube/VideoURL/"
        f"VideoFile/VideoBytes), got {type(value).__name__}"
    )
