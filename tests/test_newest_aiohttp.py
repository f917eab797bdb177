"""The library on the newest aiohttp, not only the one the dev extra pins.

The ``aiohttp<3.14`` cap is in the dev extra only, for aioresponses (a test tool): users
may run any newer aiohttp. So the wire tests run once more in a child process that
imports the newest aiohttp from the package registry, installed beside this venv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import need

TESTS = Path(__file__).parent
# Beside the venv: a fresh venv (as in CI) asks the registry again.
NEWEST = Path(sys.prefix) / "aiohttp-newest"
# What crosses the wire, none of them with aioresponses (which breaks on 3.14).
WIRE_TESTS = ["test_client.py", "test_stream.py", "test_body.py", "test_http.py"]


def newest_aiohttp() -> Path:
    if (NEWEST / "aiohttp").is_dir():
        return NEWEST
    partial = NEWEST.with_name(NEWEST.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    command = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    command += ["--target", str(partial), "--upgrade", "aiohttp"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        need("the newest aiohttp from the package registry", done.stderr.strip()[-500:])
    partial.rename(NEWEST)
    return NEWEST


@pytest.mark.slow
@pytest.mark.once
def test_the_wire_tests_pass_on_the_newest_aiohttp() -> None:
    where = newest_aiohttp()
    env = {**os.environ, "PYTHONPATH": str(where)}
    version = subprocess.run(
        [sys.executable, "-c", "import aiohttp; print(aiohttp.__version__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    major, minor = (int(part) for part in version.split(".")[:2])
    assert (major, minor) >= (3, 14), f"expected aiohttp 3.14 or newer, imported {version}"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"]
        + [str(TESTS / name) for name in WIRE_TESTS],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, f"on aiohttp {version}:\n{run.stdout[-4000:]}{run.stderr[-2000:]}"
