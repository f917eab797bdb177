"""What every command shares: its exit codes, and the error for a mistake in calling it."""

from __future__ import annotations

import os

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
#: Everything that could be done was, and the only failures are files refused before
#: sending (empty, too big, not MP4): a re-run would refuse them again, nothing was paid.
#: A cron job can take it as "nothing new failed".
EXIT_ONLY_REFUSED = 3


class UsageError(Exception):
    """A mistake in how the command was called."""


def counted(number: int, word: str, plural: str | None = None) -> str:
    """``1 credit``, ``2 credits``: a count with its word in the right number.

    >>> counted(1, "shot"), counted(3, "shot"), counted(0, "video")
    ('1 shot', '3 shots', '0 videos')
    """
    return f"{number} {word if number == 1 else plural or word + 's'}"


def read_small_text(
    path: str | os.PathLike[str], *, cap: int, name: str, kind: str, encoding: str = "utf-8"
) -> str:
    """A small text file a command reads whole (a key file, a list of sources), read no
    further than ``cap`` bytes: /dev/zero or a video named by mistake is one line, exit 2,
    not an endless read or a traceback.

    >>> read_small_text("links.txt", cap=4096, name="@links.txt", kind="a list")  # doctest: +SKIP
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read(cap + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from None
    if len(data) > cap:
        size = f"{cap // 2**20} MiB" if cap >= 2**20 else f"{cap} bytes"
        raise UsageError(f"{name} is over {size}: not {kind}")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise UsageError(f"{name} is not UTF-8 text: not {kind}") from None
