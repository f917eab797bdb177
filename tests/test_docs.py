"""Every Python and shell block of the README and of the documentation site (docs/) runs,
against the emulator, as a user would paste it. Blocks that include a file of examples/
(``--8<--``) are that file, tested on its own."""

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

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").rglob("*.md"))]


def _blocks(language: str) -> list[tuple[str, str]]:
    """(where, text) of every block in ``language``, README's two commands left out."""
    found = []
    for page in PAGES:
        blocks = re.findall(rf"```{language}\n(.+?)```", page.read_text(), flags=re.DOTALL)
        if page == README and language == "sh":
            blocks = blocks[2:]  # the demo and the test command: CI runs those itself
        name = page.relative_to(ROOT).as_posix()
        found += [(f"{name}:{i}", b) for i, b in enumerate(blocks) if "--8<--" not in b]
    return found


BLOCKS = _blocks("python")

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
    if "asyncio.run(" in block or not re.search(r"\b(await|async)\b", block):  # a program
        return PREAMBLE + block
    body = textwrap.indent(block, " " * 8)
    return (
        PREAMBLE
        + "\n\nasync def snippet():\n    async with nr.AsyncClient() as client:\n"
        + '        markdown = await client.analyze("ad.mp4").text()\n'
        + body
        + "\n\nasyncio.run(snippet())\n"
    )


def test_the_readme_and_the_docs_have_python_blocks() -> None:
    assert sum(where.startswith("README") for where, _ in BLOCKS) >= 2 and len(BLOCKS) >= 12


@pytest.mark.slow
@pytest.mark.parametrize(("where", "block"), BLOCKS, ids=[where for where, _ in BLOCKS])
def test_python_block_runs(
    where: str, block: str, emu: EmulatorProcess, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
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
    assert result.returncode == 0, f"{where}:\n{block}\n{result.stdout}\n{result.stderr}"


_SKIPPED = ("pip ", "export ", "python3 -m venv")
SHELL_BLOCKS = [
    (where, block)
    for where, block in _blocks("sh")
    if any(line.strip() and not line.startswith(_SKIPPED) for line in block.splitlines())
]


@pytest.mark.slow
@pytest.mark.parametrize(("where", "block"), SHELL_BLOCKS, ids=[w for w, _ in SHELL_BLOCKS])
def test_shell_block_runs(where: str, block: str, emu: EmulatorProcess, tmp_path: Path) -> None:
    """The command-line examples, run by bash as written, in a home with the files they name.

    Install and `export` lines are skipped (the package is installed and the key set);
    `--open` finds no browser to start (BROWSER=true).
    """
    home = tmp_path / "home"
    for folder in ("ads", "more"):
        (home / folder).mkdir(parents=True)
    shutil.copy(CLIPS[0], home / "ads" / "spring.mp4")
    shutil.copy(CLIPS[1], home / "more" / "clip.mp4")
    shutil.copy(CLIPS[2], home / "clip.mp4")
    (home / "links.txt").write_text("# a list\nhttps://youtu.be/W-15-UmGP5s\n")
    (home / "examples").symlink_to(ROOT / "examples")
    if "nanoreverse report nanoreverse-out" in block:  # it reports on a folder made before
        subprocess.run(
            [
                sys.executable,
                "-m",
                "nanoreverse",
                "analyze",
                str(home / "ads"),
                "--out",
                str(home / "nanoreverse-out"),
            ],
            env={
                **os.environ,
                "NANOPHOTO_API_KEY": emu.api_key,
                "NANOPHOTO_BASE_URL": emu.base_url,
            },
            check=True,
            capture_output=True,
        )
    lines = [line for line in block.splitlines() if not line.startswith(_SKIPPED)]
    env = {
        **os.environ,
        "HOME": str(home),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "NANOPHOTO_API_KEY": emu.api_key,
        "NANOPHOTO_BASE_URL": emu.base_url,
        "BROWSER": "true",
    }
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "\n".join(lines)],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{where}:\n{block}\n{result.stderr}"
    if "--csv shots.csv" in block:
        assert (home / "shots.csv").read_text().count("\n") > 3
        assert "| 1 |" in (home / "clip.md").read_text()
    if "nanoreverse report" in block:
        assert list(home.glob("*/report/index.html"))
