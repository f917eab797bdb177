"""What the user sees while a batch runs: a live line on a terminal, plain lines elsewhere."""

from __future__ import annotations

import math
import time

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from .. import BatchResults, Event, Finished, RateLimited, Retrying
from ._usage import counted


def duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "…"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, rest = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


class Display:
    """Follows a batch's events; ``live`` draws a progress line, else one line per event."""

    def __init__(self, console: Console, total: int, *, live: bool, quiet: bool) -> None:
        self.console = console
        self.total = total
        self.quiet = quiet
        self.results: BatchResults | None = None
        self._live = (
            Live(
                console=console, get_renderable=self._render, refresh_per_second=4, transient=False
            )
            if live and not quiet
            else None
        )

    def __enter__(self) -> Display:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._live is not None:
            self._live.stop()

    def on_event(self, event: Event) -> None:
        if isinstance(event, Finished):
            result = event.result
            if result.ok and result.cached:
                line = f"done  {result.source}  (stored: no call, free)"
            elif result.ok:
                took = f"{counted(result.attempts, 'attempt')}, {result.elapsed:.1f} s"
                line = f"done  {result.source}  ({took})"
            elif result.stopped:
                line = f"stop  {result.source}: stopped mid-answer (its text so far is kept)"
            else:
                line = f"FAIL  {result.source}: {result.error}"
            self.say(line, always=not result.ok)
        elif isinstance(event, Retrying):
            self.say(f"retry {event.source} in {event.wait:.1f} s: {event.error}")
        elif isinstance(event, RateLimited) and math.isfinite(event.wait) and event.wait >= 1:
            self.say(f"wait  rate limit: {duration(event.wait)} before {event.source}")

    def say(self, line: str, *, always: bool = False) -> None:
        # A permanent line per event, printed above the live bar (as pip and uv do), whole.
        if always or not self.quiet:
            console = self._live.console if self._live is not None else self.console
            console.print(line, markup=False, highlight=False, soft_wrap=True)

    def _render(self) -> Group:
        stats = self.results.stats if self.results else None
        done = stats.done if stats else 0
        table = Table.grid(padding=(0, 1))
        table.add_row(
            ProgressBar(total=max(self.total, 1), completed=done, width=30),
            Text(f"{done}/{self.total}", style="bold"),
        )
        if stats is not None and self.results is not None:
            wait = stats.rate_limit_wait_until - time.monotonic()
            parts = [
                f"{stats.succeeded} done",
                f"{stats.failed} failed",
                f"{stats.in_flight} in flight",
                counted(stats.credits_spent, "credit"),
            ]
            if wait > 0.5:
                parts.append(f"rate-limit wait {duration(wait)}")
            parts.append(f"ETA {duration(self.results.eta(self.total - done))}")
            table.add_row(Text(""), Text(" · ".join(parts)))
        return Group(table)
