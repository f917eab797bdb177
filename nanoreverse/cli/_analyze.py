"""``nanoreverse analyze``: many videos into one output folder, each content paid once.

Every input path gets its output file. The store (an SQLite file in the output folder
by default, or ``--store redis://…`` shared between machines) knows which contents are
finished: those are written again from it, free, wherever they now are, and two runs
on one folder at once wait for each other's answers instead of paying twice.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from rich.console import Console

from .. import (
    API_KEY_ENV,
    APIError,
    AsyncClient,
    BatchStats,
    Chunk,
    Event,
    NanoReverseError,
    RateLimit,
    Result,
    Store,
    parse_analysis,
)
from ._adopt import adopt_outputs
from ._ctrlc import CtrlC, uncancel
from ._dryrun import dry_run
from ._inputs import Item, collect
from ._layout import STORE, check_owner, open_store
from ._output import OutputFolder, suffix
from ._progress import Display
from ._recovery import keep_unstored, recover_into
from ._tally import Tally, summary
from ._usage import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_ONLY_REFUSED,
    EXIT_USAGE,
    UsageError,
    read_small_text,
)

_KEY_FILE_CAP = 4096  # bytes: keys are tens of characters; /dev/zero must not be read on


def api_key(args: argparse.Namespace) -> str | None:
    """The key as given, from ``--api-key-file`` or the environment; the client strips it
    and refuses one with a control character inside (without ever showing it)."""
    if args.api_key_file is None:
        raw = os.environ.get(API_KEY_ENV)
    else:
        file = args.api_key_file
        raw = read_small_text(file, cap=_KEY_FILE_CAP, name="--api-key-file", kind="a key file")
    return raw if raw and raw.strip("\ufeff \t\r\n") else None


def _make_client(key: str, **options: object) -> AsyncClient:
    try:
        return AsyncClient(key, **options)  # type: ignore[arg-type]
    except ValueError as exc:  # a key with a control character, a bad --base-url
        raise UsageError(str(exc)) from None


def _collect(args: argparse.Namespace, err: Console) -> list[Item]:
    notes: list[str] = []
    try:
        items = collect(args.sources, notes)
    except OSError as exc:
        raise UsageError(f"cannot read {exc.filename}: {exc.strerror}") from None
    for note in notes:
        err.print(note, markup=False, highlight=False, soft_wrap=True)
    if not items:
        raise UsageError("no videos found in the sources given")
    return items


@contextlib.asynccontextmanager
async def _endpoint(args: argparse.Namespace) -> AsyncIterator[tuple[str, str]]:
    if not args.emulator:
        key = api_key(args)
        if not key:
            raise UsageError(
                f"no API key: set {API_KEY_ENV} or pass --api-key-file "
                "(or try everything with --emulator, no key needed)"
            )
        yield args.base_url, key
        return
    from ..testing import Emulator  # the server side loads only when asked for

    Console(stderr=True).print(
        "Using the built-in emulator: its answers are made up on this machine, not a real "
        "analysis, and no credit is spent.",
        markup=False,
        soft_wrap=True,
    )
    # A demo pace: quick, but slow enough to watch the answers stream in.
    async with Emulator(
        ttfb=0.3, chars_per_second=6000, chunk_bytes=256, answer_style="mixed"
    ) as emulator:
        yield emulator.base_url, emulator.api_key


@contextlib.asynccontextmanager
async def _client(
    args: argparse.Namespace, rate: RateLimit, store: Store | None = None
) -> AsyncIterator[AsyncClient]:
    """The client the command's arguments ask for (the real API, or the emulator)."""
    async with _endpoint(args) as (base_url, key):
        client = _make_client(
            key, base_url=base_url, locale=args.locale, rate_limit=rate, store=store
        )
        async with client:
            yield client


async def analyze(args: argparse.Namespace, err: Console) -> int:
    if args.concurrency < 1:
        raise UsageError("--concurrency must be 1 or more")
    if args.max_credits is not None and args.max_credits < 0:
        raise UsageError("--max-credits must be 0 or more")
    if not args.lease > 0:
        raise UsageError("--lease must be a number of seconds > 0")
    try:
        rate = dataclasses.replace(RateLimit.parse(args.rate), shared=args.shared_rate)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.base_url is not None and not args.base_url.strip():
        raise UsageError("--base-url is empty (without it, the real service is used)")
    items = _collect(args, err)
    if len(items) == 1 and args.out is None and not args.dry_run:
        return await _stream_one(args, items[0], rate, err)
    # The keyless demo's answers are made up: by default they go apart from real ones.
    folder = OutputFolder(
        args.out or Path("nanoreverse-demo" if args.emulator else "nanoreverse-out")
    )
    if args.dry_run:
        return await _dry_run(args, items, folder)
    store = open_store(args.store, folder.root, lease=args.lease)
    try:
        folder.check_writable()
    except OSError as exc:
        raise UsageError(f"cannot write to --out {folder.root}: {exc.strerror or exc}") from None
    folder.sweep()
    async with _client(args, rate, store) as client:  # closes the store on every path
        # Plain http:// reaches only this machine: the emulator, whose answers are made up.
        made_up = client.base_url.startswith("http://")
        check_owner(folder.root, client.scope, made_up=made_up, mix=args.mix)
        await recover_into(folder.root, store, err)
        if not args.force:
            await adopt_outputs(client, store, folder.root, items, args.locale, err)
        status = await _run_batch(client, items, folder, args, err)
    if args.report and status != EXIT_INTERRUPTED:
        from ._report import write_report

        await write_report(folder.root, err, store=args.store)
    return status


async def _stream_one(args: argparse.Namespace, item: Item, rate: RateLimit, err: Console) -> int:
    """One source, no --out: the Markdown goes to stdout as it arrives."""
    try:
        # Errors of the request surface on entering the stream, so the try encloses it.
        async with _client(args, rate) as client, client.analyze(item.source) as stream:
            async for chunk in stream:
                sys.stdout.write(chunk)
                sys.stdout.flush()
    except NanoReverseError as exc:
        err.print(f"nanoreverse: {exc}", markup=False, highlight=False, soft_wrap=True)
        refused = isinstance(exc, APIError) and exc.preflight
        return EXIT_USAGE if refused else EXIT_FAILED  # refused before sending: as the README says
    return EXIT_OK


# -- the dry run ------------------------------------------------------------------------------


async def _dry_run(args: argparse.Namespace, items: list[Item], folder: OutputFolder) -> int:
    """A client that sends nothing (plan() needs no server) over the run's store, if the
    run has one yet: a dry run creates no store file."""
    if args.emulator:
        from ..testing import DEFAULT_KEY as key
    elif not (key := api_key(args) or ""):
        raise UsageError(f"no API key: set {API_KEY_ENV} or pass --api-key-file")
    own = folder.root / STORE
    store = (
        None if args.store is None and not own.is_file() else open_store(args.store, folder.root)
    )
    client = _make_client(key, base_url=args.base_url, locale=args.locale, store=store)
    async with client:
        return await dry_run(items, folder, client, args)


# -- the batch --------------------------------------------------------------------------------


async def _run_batch(
    client: AsyncClient,
    items: list[Item],
    folder: OutputFolder,
    args: argparse.Namespace,
    err: Console,
) -> int:
    live = err.is_terminal and not args.quiet
    tally = Tally()
    stats = BatchStats()
    display = Display(err, len(items), live=live, quiet=args.quiet)
    ctrl_c = CtrlC(lambda text: display.say(text, always=True))

    def on_event(event: Event) -> None:
        if not isinstance(event, Chunk):
            display.on_event(event)

    try:
        with display:
            async with client.analyze_many(
                [item.source for item in items],
                concurrency=args.concurrency,
                max_credits=args.max_credits,
                on_event=on_event,
                refresh=args.force,
                stop_on_account_error=True,
            ) as results:
                display.results = ctrl_c.results = results
                stats = results.stats
                async for result in results:
                    item = items[result.index]
                    try:
                        _save(folder, item, result, args.format)
                    except (OSError, ValueError) as exc:  # a full disk; a link out of --out
                        unsaved = tally.unwritten if result.ok else tally.unlogged
                        unsaved.append(f"{item.display}: {exc}")
                    if result.ok and result.store_error is not None:
                        keep_unstored(folder.root, item.display, result, tally)
                    tally.add(result)
    except asyncio.CancelledError:
        if not ctrl_c.interrupted:
            raise
        uncancel()
    summary(err, len(items), tally, stats, folder, args)
    if ctrl_c.interrupted:
        return EXIT_INTERRUPTED
    if tally.refused_before_sending == len(items):
        return EXIT_USAGE
    unfinished = tally.stopped or tally.unwritten or tally.taken < len(items)
    unfinished = unfinished or tally.unstored or tally.lost or tally.unlogged
    if not unfinished and tally.failed:
        refused_only = sum(tally.failed.values()) == tally.refused_before_sending
        return EXIT_ONLY_REFUSED if refused_only else EXIT_FAILED
    return EXIT_FAILED if unfinished else EXIT_OK


def _save(folder: OutputFolder, item: Item, result: Result, fmt: str) -> None:
    md, partial = suffix(result.locale, ".md"), suffix(result.locale, ".partial.md")
    if result.ok:
        if fmt in ("md", "both"):
            folder.write(item.stem, md, result.markdown)
        if fmt in ("json", "both"):
            analysis = parse_analysis(result.markdown).to_dict()
            document = {"source": item.display, "locale": result.locale, **analysis}
            text = json.dumps(document, ensure_ascii=False, indent=2)
            folder.write(item.stem, suffix(result.locale, ".json"), text)
        folder.remove(item.stem, partial)
        return
    error = result.error
    if result.markdown:
        # Paid-for text is never thrown away, even when the answer broke off.
        folder.write(item.stem, partial, result.markdown)
    folder.record_failure(
        source=item.display,
        locale=result.locale,
        errorCode=getattr(error, "code", None),
        status=getattr(error, "status", None),
        error=type(error).__name__,
        message=getattr(error, "message", None) or str(error),  # the code has its own field
        attempts=result.attempts,
        partial_chars=len(result.markdown),
    )
