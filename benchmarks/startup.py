"""Start-up: `import nanoreverse`, `nanoreverse --version` and a first client, against a bare
`python -c pass`.

Each run is a fresh interpreter, timed from outside. Runs go round-robin (pass, import,
--version, first client, pass, ...) so that the machine's drift hits each alike; each
figure is the median with its min–max, and the extra cost is the median of the paired
differences against `python -c pass` taken in the same round. Target: `--version` and
`import nanoreverse` load no network stack (tested in tests/test_package.py), so they
cost little more than the interpreter itself.

    python benchmarks/startup.py [--quick] [--repeat N]
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import arguments, median, report, table

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import nanoreverse": [sys.executable, "-c", "import nanoreverse"],
    "nanoreverse --version": [sys.executable, "-m", "nanoreverse", "--version"],
    "first client (nr.AsyncClient())": [
        sys.executable,
        "-c",
        "import nanoreverse as nr; nr.AsyncClient('k')",
    ],
}


def once(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return (time.perf_counter() - start) * 1e3


def main() -> None:
    args = arguments(__doc__ or "")
    rounds = 3 if args.quick else max(args.repeat, 21)
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for command in COMMANDS.values():
        once(command)  # warm the page cache and the bytecode files
    for _ in range(rounds):
        for name, command in COMMANDS.items():
            samples[name].append(once(command))
    bare = samples["python -c pass"]
    rows = []
    figures: dict[str, dict[str, float]] = {}
    for name, runs in samples.items():
        extra = [run - base for run, base in zip(runs, bare, strict=True)]
        figures[name] = {
            "median_ms": median(runs),
            "min_ms": min(runs),
            "max_ms": max(runs),
            "extra_median_ms": median(extra),
        }
        rows.append(
            [
                name,
                f"{median(runs):.0f} ({min(runs):.0f}–{max(runs):.0f})",
                "—" if name == "python -c pass" else f"+{median(extra):.0f}",
            ]
        )
    text = table(
        f"Start-up, a fresh interpreter each run ({rounds} rounds, round-robin)",
        ["command", "ms, median (min–max)", "over bare python, median of pairs"],
        rows,
    )
    report("startup", args, text, {"rounds": rounds, "commands": figures})


if __name__ == "__main__":
    main()
