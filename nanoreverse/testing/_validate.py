"""What the emulator makes of a request's fields: the answer, or the error the API gives.

Its URL rules are its own, written from the API's documentation, not imported from the
client: a mistake in the client's checks must be able to show in the tests that run the
client against the emulator.
"""

from __future__ import annotations

import re

from .._config import LOCALES
from ._answers import render_answer, seed_of, seeded_answer
from ._faults import RequestRecord
from ._upload import BodyError, BodyScanner

_YOUTUBE = re.compile(
    r"https?://(?:(?:www|m|music)\.)?"
    r"(?:youtube\.com/(?:watch\?(?:[^#]*&)?v=|shorts/|embed/|live/|v/)"
    r"|youtu\.be/|(?:www\.)?youtube-nocookie\.com/embed/)"
    r"(?P<id>[A-Za-z0-9_-]{11})(?![A-Za-z0-9_-])\S*",
    re.IGNORECASE,
)
_WEB_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::\d{1,5})?(?:[/?#]\S*)?", re.IGNORECASE)


def youtube_id(url: str) -> str | None:
    """The video id of a YouTube link, as the service reads one."""
    match = _YOUTUBE.fullmatch(url.strip())
    return match.group("id") if match else None


def is_video_url(url: str) -> bool:
    """An http(s) URL with a host and no user name: something the service can download."""
    return _WEB_URL.fullmatch(url.strip()) is not None


def answer_for_body(scanner: BodyScanner, record: RequestRecord, style: str = "table") -> str:
    """The answer for a body read to its end, or BodyError with the API's errorCode."""
    fields = scanner.finish()
    source, locale = fields.get("videoSource"), fields.get("locale", "en")
    record.source = source if isinstance(source, str) else None
    record.locale = locale if isinstance(locale, str) else None
    name = fields.get("videoFileName")
    record.file_name = name if isinstance(name, str) else None
    if not isinstance(locale, str) or locale not in LOCALES:
        raise BodyError("INVALID_INPUT", f"Unsupported locale: {locale!r}")
    if source == "file":
        return _file_answer(scanner, record, locale, style)
    if source in ("youtube", "url"):
        return _link_answer(source, fields.get("videoUrl"), record, locale, style)
    raise BodyError("INVALID_INPUT", "videoSource must be youtube, url or file")


def _file_answer(scanner: BodyScanner, record: RequestRecord, locale: str, style: str) -> str:
    video = scanner.video
    if video is None:
        raise BodyError("INVALID_INPUT", "videoFile is required when videoSource is file")
    record.video_size = video.size
    if video.sha256 is None:
        digest = seed_of(str(video.size).encode())
    else:
        digest = video.sha256.digest()
        record.video_sha256 = digest.hex()
    duration = video.mp4.duration
    if not duration:
        raise BodyError("VIDEO_PROCESSING_FAILED", "the video has no readable duration")
    record.video_duration = duration
    return render_answer(digest, duration, locale, style)


def _link_answer(source: str, url: object, record: RequestRecord, locale: str, style: str) -> str:
    if not isinstance(url, str) or not url:
        raise BodyError("INVALID_INPUT", "videoUrl is required for youtube and url sources")
    record.video_url = url
    if source == "youtube":
        video_id = youtube_id(url)
        if video_id is None:
            raise BodyError("INVALID_YOUTUBE_URL", "Invalid YouTube URL")
        seed_source = f"https://www.youtube.com/watch?v={video_id}".encode()
    else:
        if not is_video_url(url):
            raise BodyError("INVALID_VIDEO_URL", "Invalid video URL")
        if ".invalid" in url or "download-fails" in url:
            raise BodyError("VIDEO_DOWNLOAD_FAILED", "Failed to download the video")
        seed_source = url.encode()
    record.video_duration, answer = seeded_answer(seed_source, locale, style=style)
    return answer
