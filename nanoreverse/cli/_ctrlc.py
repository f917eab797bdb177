"""Ctrl-C during ``analyze``: three presses, three strengths of stop."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable

from .. import BatchResults


class CtrlC:
    """Ctrl-C, in steps, never losing what was paid for.

    The first starts no new call and lets the calls in flight finish (they are paid);
    the second stops those at once, their text so far kept as ``.partial.md``; the third
    stops the program. Before the batch has begun, the first cancels the run.
    """

    def __init__(self, say: Callable[[str], None]) -> None:
        self.pressed = 0
        self.results: BatchResults | None = None
        self._say = say
        self._task = asyncio.current_task()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGINT, self._pressed)

    def _pressed(self) -> None:
        self.pressed += 1
        if self.pressed > 2 or (self.pressed == 2 and self.results is None):
            raise KeyboardInterrupt  # stop now
        if self.results is None:
            if self._task is not None:
                self._task.cancel()
        elif self.pressed == 1:
            in_flight = self.results.stats.in_flight
            self.results.stop()
            self._say(
                f"Stopping: no new calls. Finishing the {in_flight} in flight (already paid); "
                "press Ctrl-C again to stop them now, keeping their text so far."
            )
        else:
            self.results.stop(now=True)
            self._say("Stopping the calls in flight; their text so far is kept (.partial.md).")

    @property
    def interrupted(self) -> bool:
        return self.pressed > 0


def uncancel() -> None:
    task = asyncio.current_task()
    if task is not None and hasattr(task, "uncancel"):
        task.uncancel()
