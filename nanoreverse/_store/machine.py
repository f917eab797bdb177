"""The clock a claim's lease runs on in a store shared by the processes of one machine.

Not the wall clock: a process whose wall clock was an hour ahead wrote a claim that held
every later run off for an hour, and a clock set back makes a live claim look expired.
The lease runs on the machine's monotonic clock instead (``CLOCK_BOOTTIME`` on Linux,
which keeps counting through a suspend), shared by every process of the machine and
never set. It restarts at each boot, so a claim also carries the boot's id, and a claim
from another boot has expired (its process is gone).

Linux names each boot (``/proc/sys/kernel/random/boot_id``). Elsewhere the boot is named
by when it happened, the wall clock less the monotonic one, to the minute: a wall clock
moved by more than that makes live claims look expired (a call may then be paid twice),
never the reverse.
"""

from __future__ import annotations

import time
from functools import cache
from pathlib import Path

_CLOCK = getattr(time, "CLOCK_BOOTTIME", None)


def machine_now() -> float:
    """Seconds on this machine's monotonic clock (the same for all its processes)."""
    return time.clock_gettime(_CLOCK) if _CLOCK is not None else time.monotonic()


@cache
def boot_id() -> str:
    """This boot's name: claims from another boot have expired."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return f"booted-{round((time.time() - machine_now()) / 60)}"
