"""What a URL names: one YouTube video (and its id), or a video URL the API can fetch.

Pure functions of the text, cached: a source's URL is read when it is classified and
again when it is prepared.
"""

from __future__ import annotations

import functools
import re
from typing import Literal
from urllib.parse import parse_qs, urlsplit, urlunsplit

_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_YOUTUBE_HOSTS = frozenset({"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com"})
_NOCOOKIE_HOSTS = frozenset({"youtube-nocookie.com", "www.youtube-nocookie.com"})
_SHORT_HOSTS = frozenset({"youtu.be", "www.youtu.be"})
_PATH_KINDS = ("shorts", "embed", "live", "v")


@functools.lru_cache(maxsize=1024)  # a source's URL is read by as_source, then by prepare
def _url_parts(url: str) -> tuple[str, str, str, str, bool] | None:
    """Scheme, host, path, query and whether it carries a user name; None if not a URL."""
    try:
        parts = urlsplit(url.strip())
        # Reading .port validates it; a bad port makes this not a URL at all.
        _ = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    return parts.scheme.lower(), host, parts.path, parts.query, "@" in parts.netloc


@functools.lru_cache(maxsize=1024)
def youtube_video_id(url: str) -> str | None:
    """The 11-character video id of a link to one YouTube video, else None.

    >>> youtube_video_id("https://youtu.be/W-15-UmGP5s?si=abc")
    'W-15-UmGP5s'
    """
    parts = _url_parts(url)
    if parts is None:
        return None
    scheme, host, path, query, has_user = parts
    if scheme not in ("http", "https") or has_user:
        return None
    segments = [s for s in path.split("/") if s]
    candidate: str | None = None
    if host in _SHORT_HOSTS and len(segments) == 1:
        candidate = segments[0]
    elif host in _NOCOOKIE_HOSTS and len(segments) == 2 and segments[0] == "embed":
        candidate = segments[1]
    elif host in _YOUTUBE_HOSTS:
        if segments == ["watch"]:
            values = parse_qs(query).get("v", [])
            candidate = values[0] if len(values) == 1 else None
        elif len(segments) == 2 and segments[0] in _PATH_KINDS:
            candidate = segments[1]
    if candidate is not None and _YOUTUBE_ID.fullmatch(candidate):
        return candidate
    return None


_ALL_YOUTUBE_HOSTS = _YOUTUBE_HOSTS | _NOCOOKIE_HOSTS | _SHORT_HOSTS


#: Longer is no link anybody meant (browsers and servers stop at 8 to 64 KiB).
MAX_URL_CHARS = 8192


def video_url_problem(url: str) -> str | None:
    """Why the URL cannot be sent as a direct video URL, or None when it can."""
    if len(url) > MAX_URL_CHARS:
        return f"it is {len(url):,} characters long; a video URL is at most {MAX_URL_CHARS:,}"
    if any(ord(c) < 32 or ord(c) == 127 for c in url.strip()):
        return "it holds a control character (a line break?); give one URL per source"
    parts = _url_parts(url)
    if parts is None:
        return "it is not a valid URL"
    scheme, host, _, _, has_user = parts
    if scheme not in ("http", "https"):
        return "only http:// and https:// video URLs are accepted"
    if not host:
        return "the URL has no host name"
    if has_user:
        return "the URL must not carry a user name or password"
    return None


def url_kind(text: str) -> Literal["youtube", "url"] | None:
    """A YouTube link, another URL, or neither (then the text is a path).

    >>> url_kind("https://youtu.be/W-15-UmGP5s"), url_kind("s3://b/a.mp4"), url_kind("a.mp4")
    ('youtube', 'url', None)
    """
    parts = _url_parts(text)
    if parts is None:
        return None
    scheme, host = parts[0], parts[1]
    if scheme in ("http", "https"):
        return "youtube" if host in _ALL_YOUTUBE_HOSTS else "url"
    if len(scheme) > 1 and text.strip().startswith(f"{scheme}://"):
        return "url"  # ftp://, s3://...: a URL, which preflight refuses clearly
    return None  # C:\clip.mp4 has a one-letter "scheme"


def normalise_url(url: str) -> str:
    """The form of a URL under which its analysis is stored: scheme and host in lower case,
    no fragment (the query stays: it may name the file, e.g. a signed CDN link).

    >>> normalise_url(" HTTPS://CDN.Example.com/a.mp4#t=3 ")
    'https://cdn.example.com/a.mp4'
    """
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, ""))
