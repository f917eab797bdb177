"""What every command shares: its exit codes, and the error for a mistake in calling it."""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """A mistake in how the command was called."""


def counted(number: int, word: str, plural: str | None = None) -> str:
    """``1 credit``, ``2 credits``: a count with its word in the right number.

    >>> counted(1, "shot"), counted(3, "shot"), counted(0, "video")
    ('1 shot', '3 shots', '0 videos')
    """
    return f"{number} {word if number == 1 else plural or word + 's'}"
