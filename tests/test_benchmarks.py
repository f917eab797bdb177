"""Each benchmark's --quick smoke run completes and writes its figures (never judged for speed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


@pytest.mark.slow
@pytest.mark.once
@pytest.mark.parametrize(
    "name",
    [
        "upload",
        "store",
        "fleet",
        "batch",
        "overhead",
        "ttfc",
        "scale",
        "report",
        "startup",
        "parse",
    ],
)
def test_quick_run_completes(name: str, tmp_path: Path) -> None:
    env = {**os.environ, "NANOREVERSE_BENCH_RESULTS": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{name}.py"), "--quick"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "|" in result.stdout  # it printed its table
    figures = json.loads((tmp_path / f"{name}-quick.json").read_text())
    assert figures["quick"] is True and figures["machine"]["cores"]
