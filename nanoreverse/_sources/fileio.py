"""Reading local video files without blocking the event loop, and without needless thread hops.

A read of data already in the page cache costs microseconds; handing it to a
thread costs more than that (and, measured, 8–10 % of an upload's CPU). So a
read first asks the kernel for cached data only (``preadv`` with
``RWF_NOWAIT``, on Linux) and goes to a worker thread only when the data has
to come from the disk. That thread hop, and every read where the fast path does
not exist (macOS, Windows), goes through aiofiles: the portable path is the
well-kept library's. Files are opened non-blocking and checked to be
regular files first: a FIFO or ``/dev/zero`` would otherwise hang or never end.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field

import aiofiles.os
import anyio

_NOWAIT: int | None = getattr(os, "RWF_NOWAIT", None) if hasattr(os, "preadv") else None
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class Stamp:
    """What a file was when it was checked: a later difference means it changed.

    A store may remember a file's sha256 beside its stamp (``Store.remember_identity``),
    so that a file seen before is not read again while its stamp holds.

    Attributes:
        device: The file system's device number.
        inode: The file's inode number.
        size: Its size in bytes.
        mtime_ns: When its content last changed.
        ctime_ns: When it last changed in any way (a write always moves it).

    >>> nr.Stamp.of(os.stat("clip.mp4")).size               # doctest: +SKIP
    1048576
    """

    device: int
    inode: int
    size: int
    mtime_ns: int
    #: Moved to the present by every write, and by a rename or chmod too: a difference here
    #: alone does not stop an upload (a renamed file has the same bytes), but a remembered
    #: sha256 holds only while it is the same (``_store/identity.py``).
    ctime_ns: int = field(default=0, compare=False)

    @classmethod
    def of(cls, info: os.stat_result) -> Stamp:
        return cls(info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)

    def state(self) -> str:
        """All five, as one text: what a store compares."""
        return f"{self.device}:{self.inode}:{self.size}:{self.mtime_ns}:{self.ctime_ns}"


class NotRegularFile(OSError):
    """The path names a folder, a FIFO, a device or a socket, not a file."""

    def __init__(self, kind: str) -> None:
        super().__init__(errno.EINVAL, f"it is {kind}, not a regular file")
        self.kind = kind


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_regular(path: str | os.PathLike[str]) -> tuple[int, os.stat_result]:
    """Open a regular file for reading; never blocks on a FIFO. The caller closes the fd.

    >>> fd, info = open_regular("clip.mp4")   # doctest: +SKIP
    """
    fd = os.open(path, _OPEN_FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(_kind(info.st_mode))
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def _read_cached(fd: int, view: memoryview, offset: int) -> int | None:
    """Bytes read from the page cache alone, or None when the disk is needed."""
    global _NOWAIT
    if _NOWAIT is None:
        return None
    try:
        return os.preadv(fd, [view], offset, _NOWAIT)
    except BlockingIOError:
        return None
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise
        _NOWAIT = None  # this kernel or file system has no RWF_NOWAIT: threads from now on
        return None


def _read_blocking(fd: int, view: memoryview, offset: int) -> int:
    if hasattr(os, "preadv"):
        return os.preadv(fd, [view], offset)
    # Windows has neither preadv nor pread: a seek and a read, safe because each upload
    # opens its own descriptor and reads it one piece at a time.
    os.lseek(fd, offset, os.SEEK_SET)  # pragma: no cover - Windows
    data = os.read(fd, len(view))  # pragma: no cover
    view[: len(data)] = data  # pragma: no cover
    return len(data)  # pragma: no cover


_read_in_thread = aiofiles.os.wrap(_read_blocking)


def force_portable_reads() -> None:
    """Read every piece through aiofiles' thread, as on a platform without RWF_NOWAIT (the
    test suite's ``--portable-reads``, which CI runs once to prove the fallback)."""
    global _NOWAIT
    _NOWAIT = None


async def _read_shielded(fd: int, view: memoryview, offset: int) -> int:
    # Shielded: the caller closes ``fd`` when cancelled, and must not while a thread
    # still reads it (the number could name another file by then).
    got = 0
    with anyio.CancelScope(shield=True):
        got = await _read_in_thread(fd, view, offset)
    return got


async def read_into(fd: int, view: memoryview, offset: int) -> int:
    """Fill ``view`` from ``offset``; returns the bytes read, fewer only at the end of the file.

    >>> got = await read_into(fd, memoryview(buffer), 0)   # doctest: +SKIP
    """
    filled = 0
    while filled < len(view):
        part = view[filled:]
        got = _read_cached(fd, part, offset + filled)
        if got is None:
            got = await _read_shielded(fd, part, offset + filled)
        if got == 0:
            break
        filled += got
    return filled
