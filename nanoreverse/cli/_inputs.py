"""From command-line words to a list of videos: files, folders, links, ``-`` and ``@list.txt``."""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from .._sources import Source, VideoFile, VideoURL, YouTube, as_source, normalise_url

_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)
_MAX_PART = 100


@dataclass(frozen=True)
class Item:
    """One video to analyse: what it is, what it is called, where its output goes."""

    source: Source
    display: str
    #: Relative output path without suffix, e.g. ``ads/spring`` → ``ads/spring.md``.
    stem: PurePosixPath
    #: What the word names, to take each once: a file's real path, or the normalised link.
    #: (Two paths to the same content are two items, each with its output; the store pays
    #: for the content once.)
    name: str


def safe_part(text: str) -> str:
    """One path component that cannot climb out of the output folder or hide itself."""
    part = _UNSAFE.sub("_", text).strip(" .")[:_MAX_PART].strip(" .")
    return part or "_"


def safe_stem(parts: Iterable[str]) -> PurePosixPath:
    cleaned = [safe_part(p) for p in parts if p not in ("", ".")]
    return PurePosixPath(*cleaned) if cleaned else PurePosixPath("_")


def _url_item(source: YouTube | VideoURL) -> Item:
    if isinstance(source, YouTube):
        video_id = source.video_id
        if video_id is not None:
            return Item(
                source,
                source.url,
                PurePosixPath(f"youtube-{safe_part(video_id)}"),
                f"yt:{video_id}",
            )
        # Not a video link: preflight will say so; name it anyway.
    key = normalise_url(source.url)
    short = hashlib.sha256(key.encode()).hexdigest()[:10]
    name = PurePosixPath(urlsplit(source.url).path).stem
    stem = f"url-{short}-{safe_part(name)}" if name else f"url-{short}"
    return Item(source, source.url, PurePosixPath(stem), f"url:{key}")


def _file_item(path: Path, relative: PurePosixPath) -> Item:
    # Nothing is read here: a FIFO or /dev/zero named by mistake is refused by preflight.
    stem = safe_stem(relative.with_suffix("").parts)
    return Item(VideoFile(path), str(path), stem, f"path:{path.resolve()}")


def _is_mp4(path: Path) -> bool:
    return path.suffix.lower() == ".mp4" and path.is_file()


def _expand_word(word: str) -> Iterator[Item]:
    source = as_source(word)
    if isinstance(source, YouTube | VideoURL):
        yield _url_item(source)
        return
    path = Path(word).expanduser()
    if path.is_dir():
        for found in sorted(p for p in path.rglob("*") if _is_mp4(p)):
            yield _file_item(found, PurePosixPath(found.relative_to(path).as_posix()))
        return
    yield _file_item(path, PurePosixPath(path.name))


def _words(args: Iterable[str]) -> Iterator[str]:
    for arg in args:
        if arg == "-":
            yield from (line.strip() for line in sys.stdin if line.strip())
        elif arg.startswith("@") and len(arg) > 1:
            listed = Path(arg[1:]).read_text(encoding="utf-8")
            yield from (
                line.strip()
                for line in listed.splitlines()
                if line.strip() and not line.lstrip().startswith("#")
            )
        else:
            yield arg


def collect(args: Iterable[str]) -> list[Item]:
    """Every video named, once each, with output names that never collide.

    >>> [i.display for i in collect(["https://youtu.be/W-15-UmGP5s"])]
    ['https://youtu.be/W-15-UmGP5s']
    """
    items: list[Item] = []
    seen: set[str] = set()
    taken: set[str] = set()
    for word in _words(args):
        for item in _expand_word(word):
            if item.name in seen:
                continue  # the same file or link named twice: once
            seen.add(item.name)
            stem = item.stem
            if str(stem).casefold() in taken:
                suffix = hashlib.sha256(item.name.encode()).hexdigest()[:8]
                stem = stem.with_name(f"{stem.name}-{suffix}")
            taken.add(str(stem).casefold())
            items.append(Item(item.source, item.display, stem, item.name))
    return items
