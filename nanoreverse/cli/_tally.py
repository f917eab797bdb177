"""What a run of ``analyze`` saved, counted as results are taken, and the closing summary."""

from __future__ import annotations

import argparse
import collections
from dataclasses import dataclass, field

from rich.console import Console

from .. import APIError, BatchStats, Result
from ._output import OutputFolder
from ._usage import counted


@dataclass
class Tally:
    """What the run saved, counted as results are taken (the results themselves are not kept).

    The batch's own ``BatchStats`` counts what was done and paid; this counts what became
    of it here: written, from the store, refused before sending, stopped, unwritten.
    """

    taken: int = 0
    analysed: int = 0
    from_store: int = 0
    refused_before_sending: int = 0
    #: Stopped by a second Ctrl-C mid-answer: paid, their text so far kept.
    stopped: int = 0
    failed: collections.Counter[str] = field(default_factory=collections.Counter)
    unwritten: list[str] = field(default_factory=list)
    #: Paid answers the store refused, kept in the recovery file for the next run.
    unstored: list[str] = field(default_factory=list)
    #: Paid answers neither the store nor the recovery file could keep.
    lost: list[str] = field(default_factory=list)
    #: Failures that could not be written to failures.jsonl (or their partial text).
    unlogged: list[str] = field(default_factory=list)

    def add(self, result: Result) -> None:
        self.taken += 1
        if result.ok:
            if result.cached:
                self.from_store += 1
            else:
                self.analysed += 1
            return
        if result.stopped:
            self.stopped += 1
            return
        self.failed[label(result.error)] += 1
        error = result.error
        self.refused_before_sending += isinstance(error, APIError) and error.preflight


def label(error: BaseException | None) -> str:
    """One kind of name per failure: the errorCode, the HTTP status when the server gave no
    code (a proxy's HTML page), else the error's class."""
    if isinstance(error, APIError):
        return error.code or f"HTTP {error.status}"
    return type(error).__name__


def summary(
    err: Console,
    total: int,
    tally: Tally,
    stats: BatchStats,
    folder: OutputFolder,
    args: argparse.Namespace,
) -> None:
    def say(text: str) -> None:
        err.print(text, markup=False, highlight=False, soft_wrap=True)

    failed = tally.failed.total()
    line = f"{tally.analysed} analysed, {failed} failed"
    if tally.from_store:
        line += f", {tally.from_store} from the store (free)"
    if tally.stopped:
        line += f", {tally.stopped} stopped mid-answer (text so far in .partial.md)"
    if tally.taken < total:
        line += f", {total - tally.taken} not started"
    if getattr(args, "emulator", False):
        spent = f"no credit spent (the emulator made up {counted(stats.credits_spent, 'answer')})"
    else:
        spent = f"{counted(stats.credits_spent, 'credit')} spent"
    say(f"{line}; {spent}. Output: {folder.root}")
    for code, count in tally.failed.most_common():
        say(f"  {count} × {code}")
    if stats.stopped_by is not None:
        say(
            f"Stopped starting calls: {stats.stopped_by}. Every later call would fail the same "
            "way: fix the key or the balance, then run again."
        )
    if stats.budget_exhausted:
        say(f"Budget reached (--max-credits {args.max_credits}): the rest was not started.")
    if tally.unstored or tally.lost:
        say(f"{counted(len(tally.unstored + tally.lost), 'paid answer')} could not be stored:")
        for line in tally.unstored:
            say(f"  {line}")
        for line in tally.lost:
            say(f"  {line} (NOT KEPT: its text is only in its output, if that was written)")
        if tally.unstored:
            say(
                "  The next run puts the kept text in the store, free (fix the store first: "
                "free space, a writable file, Redis up)."
            )
    if tally.unwritten:
        unkept = {line.split(": ", 1)[0] for line in tally.unstored + tally.lost}
        say(f"{counted(len(tally.unwritten), 'answer')} could not be written to {folder.root}:")
        for line in tally.unwritten:
            say(f"  {line}")
        if not any(line.split(": ", 1)[0] in unkept for line in tally.unwritten):
            say("  They are kept in the store: fix the folder and run again to write them, free.")
    if tally.unlogged:
        say(f"{counted(len(tally.unlogged), 'failure')} could not be logged in {folder.root}:")
        for line in tally.unlogged[:5]:
            say(f"  {line}")
        if len(tally.unlogged) > 5:
            say(f"  … and {len(tally.unlogged) - 5} more")
    retryable = failed - tally.refused_before_sending
    if tally.refused_before_sending:
        say(
            f"  {tally.refused_before_sending} refused before sending (nothing was paid): a "
            "re-run will refuse them again; fix or remove those files."
        )
    if retryable:
        say(f"  details: {folder.root / 'failures.jsonl'}; run again to retry them.")
    elif failed:
        say(f"  details: {folder.root / 'failures.jsonl'}.")
