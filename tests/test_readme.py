"""Every Python block of the README runs, against the emulator, as a user would paste it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from nanoreverse.testing import EmulatorProcess

from .helpers import CLIPS

README = Path(__file__).parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.+?)```", README.read_text(), flags=re.DOTALL)

# What a snippet takes from its surroundings: a video, a list of them, somewhere to put
# answers, and for the fragments a client and an answer.
PREAMBLE = """\
import asyncio
from pathlib import Path

import nanoreverse as nr

paths = ["ad.mp4"]
save = log = print
"""


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorProcess]:
    with EmulatorProcess("--rate-limit", "none") as process:
        yield process


def program(block: str, redis_url: str) -> str:
    block = block.replace("redis://cache:6379/0", redis_url)
    if "asyncio.run(" in block:  # a whole program
        return PREAMBLE + block
    body = textwrap.indent(block, " " * 8)
    return (
        PREAMBLE
        + "\n\nasync def snippet():\n    async with nr.AsyncClient() as client:\n"
        + '        markdown = await client.analyze("ad.mp4").text()\n'
        + body
        + "\n\nasyncio.run(snippet())\n"
    )


def test_the_readme_has_python_blocks() -> None:
    assert len(BLOCKS) >= 6


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(
    index: int, emu: EmulatorProcess, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    block = BLOCKS[index]
    shutil.copy(CLIPS[0], tmp_path / "ad.mp4")
    shutil.copy(CLIPS[1], tmp_path / "clip.mp4")
    env = {**os.environ, "NANOPHOTO_API_KEY": emu.api_key, "NANOPHOTO_BASE_URL": emu.base_url}
    if "def test_" in block:  # a test of the user's: run it with pytest, as they would
        (tmp_path / "test_snippet.py").write_text(block)
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "test_snippet.py",
        ]
        command += ["-o", "asyncio_mode=strict", "--rootdir", str(tmp_path)]
    else:
        redis_url = request.getfixturevalue("redis_url") if "redis://" in block else ""
        (tmp_path / "snippet.py").write_text(program(block, redis_url))
        command = [sys.executable, "snippet.py"]
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, (
        f"README block {index}:\n{block}\n{result.stdout}\n{result.stderr}"
    )
