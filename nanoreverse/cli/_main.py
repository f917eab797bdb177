"""``nanoreverse analyze | export | emulator``.

Exit codes of ``analyze``: 0 all done; 1 some failed; 2 bad usage, or every
source refused before sending; 130 interrupted (after finishing file writes
and printing the summary).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import csv
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from .._batch import Chunk, Event, Result
from .._client import AsyncClient
from .._config import API_KEY_ENV, DEFAULT_BASE_URL, LOCALES, RateLimit
from .._errors import APIError, NanoReverseError
from .._shots import parse_analysis
from ..testing import _serve
from ..testing._emulator import Emulator
from ._inputs import Item, collect
from ._progress import Display
from ._store import OutputFolder

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """A mistake in how the command was called."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nanoreverse",
        description="Turn videos into shot-by-shot Markdown prompt sheets "
        "with NanoPhoto.AI's Video Reverse Prompt API.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    analyze = commands.add_parser(
        "analyze",
        help="analyse videos: files, folders, YouTube links, URLs, - (stdin), @list.txt",
        description="Analyse videos. One source without --out streams the Markdown to stdout; "
        "otherwise one file per video goes to --out, and a re-run skips finished work.",
    )
    analyze.add_argument("sources", nargs="+", metavar="SOURCE")
    analyze.add_argument("--out", type=Path, help="output folder (default: ./nanoreverse-out)")
    analyze.add_argument("--locale", choices=LOCALES, default="en", help="output language")
    analyze.add_argument("--concurrency", type=int, default=4, help="calls at once (default 4)")
    analyze.add_argument(
        "--rate", default="100/3600", help="client-side limit CALLS/SECONDS (default 100/3600)"
    )
    analyze.add_argument("--max-credits", type=int, help="never start more calls than this")
    analyze.add_argument("--format", choices=["md", "json", "both"], default="md")
    analyze.add_argument("--dry-run", action="store_true", help="list the work; send nothing")
    analyze.add_argument("--force", action="store_true", help="analyse finished videos again")
    analyze.add_argument("--base-url", default=DEFAULT_BASE_URL)
    analyze.add_argument("--api-key-file", type=Path, help=f"read the key here, not ${API_KEY_ENV}")
    analyze.add_argument(
        "--emulator", action="store_true", help="run against the built-in emulator (no key needed)"
    )
    analyze.add_argument("--quiet", action="store_true", help="only failures and the summary")

    export = commands.add_parser("export", help="combine an output folder's shots into one CSV")
    export.add_argument("out", type=Path, metavar="OUT_DIR")
    export.add_argument("--csv", type=Path, required=True, help="CSV file to write")

    emulator = commands.add_parser("emulator", help="run the API emulator in the foreground")
    _serve.add_arguments(emulator)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nanoreverse`` command."""
    args = _parser().parse_args(argv)
    err = Console(stderr=True)
    try:
        if args.command == "emulator":
            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(_serve.serve(_serve.emulator_from(args), as_json=args.json))
            return EXIT_OK
        if args.command == "export":
            return export_csv(args.out, args.csv, err)
        return asyncio.run(analyze(args, err))
    except UsageError as exc:
        err.print(f"nanoreverse: {exc}", markup=False, highlight=False)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


# -- analyze -------------------------------------------------------------------------------


def _api_key(args: argparse.Namespace) -> str | None:
    if args.api_key_file is not None:
        try:
            return str(args.api_key_file.read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise UsageError(f"cannot read --api-key-file: {exc.strerror}") from None
    return os.environ.get(API_KEY_ENV)


def _collect(args: argparse.Namespace) -> list[Item]:
    try:
        items = collect(args.sources)
    except OSError as exc:
        raise UsageError(f"cannot read {exc.filename}: {exc.strerror}") from None
    if not items:
        raise UsageError("no videos found in the sources given")
    return items


@contextlib.asynccontextmanager
async def _endpoint(args: argparse.Namespace) -> AsyncIterator[tuple[str, str]]:
    if not args.emulator:
        api_key = _api_key(args)
        if not api_key:
            raise UsageError(
                f"no API key: set {API_KEY_ENV} or pass --api-key-file "
                "(or try everything with --emulator, no key needed)"
            )
        yield args.base_url, api_key
        return
    # A demo pace: quick, but slow enough to watch the answers stream in.
    async with Emulator(ttfb=0.3, chars_per_second=6000, chunk_bytes=256) as emulator:
        yield emulator.base_url, emulator.api_key


@contextlib.asynccontextmanager
async def _client(args: argparse.Namespace, rate: RateLimit) -> AsyncIterator[AsyncClient]:
    """The client the command's arguments ask for (the real API, or the emulator)."""
    async with _endpoint(args) as (base_url, api_key):
        try:
            client = AsyncClient(api_key, base_url=base_url, locale=args.locale, rate_limit=rate)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        async with client:
            yield client


async def analyze(args: argparse.Namespace, err: Console) -> int:
    if args.concurrency < 1:
        raise UsageError("--concurrency must be 1 or more")
    try:
        rate = RateLimit.parse(args.rate)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    items = _collect(args)
    if len(items) == 1 and args.out is None and not args.dry_run:
        return await _stream_one(args, items[0], rate, err)
    folder = OutputFolder(args.out or Path("nanoreverse-out"))
    if not args.dry_run:
        folder.sweep()
    finished = {} if args.force else folder.finished()
    todo = [i for i in items if f"{i.key}|{args.locale}" not in finished]
    if args.dry_run:
        return _dry_run(items, todo, folder, args)
    if not todo:
        err.print(f"Nothing to do: all {len(items)} videos are already in {folder.root}.")
        return EXIT_OK
    async with _client(args, rate) as client:
        return await _run_batch(client, todo, folder, args, err, skipped=len(items) - len(todo))


async def _stream_one(args: argparse.Namespace, item: Item, rate: RateLimit, err: Console) -> int:
    """One source, no --out: the Markdown goes to stdout as it arrives."""
    try:
        # Errors of the request surface on entering the stream, so the try encloses it.
        async with _client(args, rate) as client, client.analyze(item.source) as stream:
            async for chunk in stream:
                sys.stdout.write(chunk)
                sys.stdout.flush()
    except NanoReverseError as exc:
        err.print(f"nanoreverse: {exc}", markup=False, highlight=False)
        return EXIT_FAILED
    return EXIT_OK


def _dry_run(
    items: list[Item], todo: list[Item], folder: OutputFolder, args: argparse.Namespace
) -> int:
    pending = {id(i) for i in todo}
    for item in items:
        state = "todo" if id(item) in pending else "done"
        print(f"{state}  {item.display}  ->  {folder.path_for(item.stem, '.md')}")
    print(
        f"{len(todo)} to analyse, {len(items) - len(todo)} already done: "
        f"at most {len(todo)} credits."
    )
    return EXIT_OK


async def _run_batch(
    client: AsyncClient,
    todo: list[Item],
    folder: OutputFolder,
    args: argparse.Namespace,
    err: Console,
    *,
    skipped: int,
) -> int:
    interrupted = _cancel_on_sigint()
    live = err.is_terminal and not args.quiet
    tally = _Tally()
    display = Display(err, len(todo), live=live, quiet=args.quiet)

    def on_event(event: Event) -> None:
        if not isinstance(event, Chunk):
            display.on_event(event)

    try:
        with display:
            async with client.analyze_many(
                [item.source for item in todo],
                concurrency=args.concurrency,
                max_credits=args.max_credits,
                ordered=False,
                on_event=on_event,
            ) as results:
                display.results = results
                async for result in results:
                    _save(folder, todo[result.index], result, args.format)
                    tally.add(result)
    except asyncio.CancelledError:
        if not interrupted.is_set():
            raise
        _uncancel()
    _summary(err, len(todo), tally, folder, skipped=skipped)
    if interrupted.is_set():
        return EXIT_INTERRUPTED
    if tally.refused_before_sending == len(todo):
        return EXIT_USAGE
    return EXIT_FAILED if tally.failed or tally.taken < len(todo) else EXIT_OK


@dataclass
class _Tally:
    """What the run saved, counted as results are taken (the results themselves are not kept)."""

    taken: int = 0
    analysed: int = 0
    credits: int = 0
    refused_before_sending: int = 0
    failed: collections.Counter[str] = field(default_factory=collections.Counter)

    def add(self, result: Result) -> None:
        self.taken += 1
        self.credits += result.paid
        if result.ok:
            self.analysed += 1
            return
        error = result.error
        self.failed[getattr(error, "code", None) or type(error).__name__] += 1
        self.refused_before_sending += isinstance(error, APIError) and error.preflight


def _save(folder: OutputFolder, item: Item, result: Result, fmt: str) -> None:
    if result.ok:
        if fmt in ("md", "both"):
            folder.write(item.stem, ".md", result.markdown)
        if fmt in ("json", "both"):
            analysis = parse_analysis(result.markdown).to_dict()
            document = {"source": item.display, "locale": result.locale, **analysis}
            folder.write(item.stem, ".json", json.dumps(document, ensure_ascii=False, indent=2))
        folder.remove(item.stem, ".partial.md")
        folder.record_finished(
            item.key,
            result.locale,
            source=item.display,
            output=str(item.stem),
            attempts=result.attempts,
        )
        return
    error = result.error
    if result.markdown:
        # Paid-for text is never thrown away, even when the answer broke off.
        folder.write(item.stem, ".partial.md", result.markdown)
    folder.record_failure(
        item.key,
        result.locale,
        source=item.display,
        errorCode=getattr(error, "code", None),
        status=getattr(error, "status", None),
        error=type(error).__name__,
        message=str(error),
        attempts=result.attempts,
        partial_chars=len(result.markdown),
    )


def _summary(
    err: Console, total: int, tally: _Tally, folder: OutputFolder, *, skipped: int
) -> None:
    failed = tally.failed.total()
    line = f"{tally.analysed} analysed, {failed} failed"
    if skipped:
        line += f", {skipped} already done"
    if tally.taken < total:
        line += f", {total - tally.taken} not started"
    err.print(f"{line}; {tally.credits} credits spent. Output: {folder.root}", markup=False)
    for code, count in tally.failed.most_common():
        err.print(f"  {count} × {code}", markup=False)
    if failed:
        err.print(
            f"  details: {folder.root / 'failures.jsonl'}; run again to retry them.", markup=False
        )


def _cancel_on_sigint() -> asyncio.Event:
    """Ctrl-C cancels the batch (finishing the file being written) instead of killing it."""
    interrupted = asyncio.Event()
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()

    def handler() -> None:
        if interrupted.is_set():
            raise KeyboardInterrupt  # a second Ctrl-C: stop now
        interrupted.set()
        if task is not None:
            task.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, handler)
    return interrupted


def _uncancel() -> None:
    task = asyncio.current_task()
    if task is not None and hasattr(task, "uncancel"):
        task.uncancel()


# -- export --------------------------------------------------------------------------------

CSV_FIELDS = [
    "video",
    "shot",
    "framing",
    "movement",
    "description",
    "audio",
    "duration",
    "duration_seconds",
]


def export_csv(out: Path, target: Path, err: Console) -> int:
    """Every finished video's shots, from an output folder, in one CSV."""
    folder = OutputFolder(out)
    entries = folder.finished()
    if not entries:
        raise UsageError(f"{out} has no finished videos (no manifest.jsonl entries)")
    rows: list[dict[str, Any]] = []
    for entry in entries.values():
        path = out / f"{entry.get('output')}.md"
        if not path.exists():
            err.print(f"skipped {entry.get('source')}: {path} is missing", markup=False)
            continue
        for shot in parse_analysis(path.read_text(encoding="utf-8")).shots:
            rows.append(
                {
                    "video": entry.get("source"),
                    "shot": shot.number,
                    "framing": shot.framing,
                    "movement": shot.movement,
                    "description": shot.description,
                    "audio": shot.audio,
                    "duration": shot.duration,
                    "duration_seconds": shot.duration_seconds,
                }
            )
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    err.print(f"{len(rows)} shots from {len(entries)} videos written to {target}", markup=False)
    return EXIT_OK
