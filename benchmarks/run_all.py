"""Run every benchmark, one after the other (each starts its own emulator process).

python benchmarks/run_all.py [--quick] [--repeat N]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
BENCHMARKS = [
    "upload.py",
    "store.py",
    "fleet.py",
    "report.py",
    "batch.py",
    "overhead.py",
    "ttfc.py",
    "scale.py",
    "startup.py",
    "parse.py",
]

if __name__ == "__main__":
    failed = 0
    for name in BENCHMARKS:
        print(f"\n=== {name} ===", flush=True)
        failed += subprocess.run([sys.executable, str(HERE / name), *sys.argv[1:]]).returncode != 0
    sys.exit(1 if failed else 0)
