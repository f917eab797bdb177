"""From command-line words to a list of videos: files, folders, links, ``-`` and ``@list.txt``."""

from __future__ import annotations

import collections
import hashlib
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from .. import Source, VideoFile, VideoURL, YouTube, as_source
from ._usage import UsageError, read_small_text

# What some file system refuses (Windows' < > : " / \\ | ? *, control characters; a
# byte that is not UTF-8): only these change. Parentheses, quotes, &, #, +, commas and
# emoji are kept, as every file system takes them.
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f\ud800-\udfff]+')
# Names Windows keeps for devices, whatever the extension.
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(1, 10))}
_RESERVED |= {f"LPT{n}" for n in range(1, 10)}
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


def _clean(text: str) -> str:
    part = _UNSAFE.sub("_", text).strip(" .")[:_MAX_PART].strip(" .") or "_"
    return f"{part}_" if part.split(".")[0].upper() in _RESERVED else part


def safe_part(text: str) -> str:
    """One path component that cannot climb out of the output folder or hide itself.

    A name that had to change gets a short hash of the original, so that two names
    changed alike (``a:b`` and ``a*b``) never share an output, in this run or a later one.
    """
    part = _clean(text)
    if part == text:
        return part
    return f"{part}-{hashlib.sha256(text.encode('utf-8', 'surrogateescape')).hexdigest()[:6]}"


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
    # A YouTube link naming no video is refused by preflight: its text names it well enough.
    key = source.normalised_url if isinstance(source, VideoURL) else source.url.strip()
    short = hashlib.sha256(key.encode()).hexdigest()[:10]
    name = PurePosixPath(urlsplit(source.url).path).stem
    stem = f"url-{short}-{_clean(name)}" if name else f"url-{short}"  # the hash keeps it apart
    return Item(source, source.url, PurePosixPath(stem), f"url:{key}")


def _file_item(path: Path, relative: PurePosixPath) -> Item:
    # Nothing is read here: a FIFO or /dev/zero named by mistake is refused by preflight.
    stem = safe_stem(relative.with_suffix("").parts)
    return Item(VideoFile(path), str(path), stem, f"path:{path.resolve()}")


# Other video formats a folder may hold: mentioned, since only MP4 can be uploaded.
_OTHER_VIDEOS = frozenset({".mov", ".m4v", ".mkv", ".webm", ".avi"})
# Links typed without their scheme, which are still clearly links.
_BARE_LINK = re.compile(r"^(www\.|m\.)?(youtube\.com|youtu\.be)/", re.IGNORECASE)


def _is_mp4(path: Path) -> bool:
    # ._NAME.mp4 files are macOS's resource forks on foreign disks, not videos.
    return path.suffix.lower() == ".mp4" and not path.name.startswith("._") and path.is_file()


def _scan(folder: Path, notes: list[str]) -> Iterator[Item]:
    others: collections.Counter[str] = collections.Counter()
    for found in sorted(folder.rglob("*")):
        if _is_mp4(found):
            yield _file_item(found, PurePosixPath(found.relative_to(folder).as_posix()))
        elif found.suffix.lower() in _OTHER_VIDEOS and not found.name.startswith("._"):
            others[found.suffix.lower()] += 1
    for suffix, count in sorted(others.items()):
        files = "file" if count == 1 else "files"
        notes.append(f"{count} {suffix} {files} skipped in {folder}: only MP4 is supported")


def _expand_word(word: str, notes: list[str]) -> Iterator[Item]:
    if _BARE_LINK.match(word):
        word = "https://" + word
    source = as_source(word)
    if isinstance(source, YouTube | VideoURL):
        yield _url_item(source)
        return
    path = Path(word).expanduser()
    if path.is_dir():
        yield from _scan(path, notes)
        return
    yield _file_item(path, PurePosixPath(path.name))


#: A list file larger than this is not a list of videos (and /dev/zero is not read on).
LIST_CAP = 16 * 1024 * 1024


def _listed(lines: Iterable[str], where: str) -> Iterator[str]:
    """The sources of a list (a file or stdin): one a line, blank lines and # comments skipped."""
    for number, line in enumerate(lines, 1):
        if "\0" in line:
            raise UsageError(f"{where} line {number} holds a NUL byte: not a list of videos")
        if line.strip() and not line.lstrip().startswith("#"):
            yield line.strip()


def _list_file(name: str) -> list[str]:
    text = read_small_text(
        name, cap=LIST_CAP, name=f"@{name}", kind="a list of videos", encoding="utf-8-sig"
    )
    return text.splitlines()


def _words(args: Iterable[str]) -> Iterator[str]:
    for arg in args:
        if not arg.strip():
            # '' would name the current folder, and analyse (and pay for) every MP4 in it.
            raise UsageError("an empty source was given; name a file, a folder or a link")
        if arg == "-":
            if sys.stdin is None:
                raise UsageError("'-' reads sources from standard input, but it is closed")
            yield from _listed(sys.stdin, "standard input")
        elif arg.startswith("@") and len(arg) > 1:
            yield from _listed(_list_file(arg[1:]), arg)
        else:
            yield arg


def collect(args: Iterable[str], notes: list[str] | None = None) -> list[Item]:
    """Every video named, once each, with output names that never collide.

    >>> [i.display for i in collect(["https://youtu.be/W-15-UmGP5s"])]
    ['https://youtu.be/W-15-UmGP5s']
    """
    items: list[Item] = []
    seen: set[str] = set()
    taken: set[str] = set()
    notes = [] if notes is None else notes
    for word in _words(args):
        for item in _expand_word(word, notes):
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
