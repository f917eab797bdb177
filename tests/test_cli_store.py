"""The command line on a shared store: several real processes, one folder or one Redis,
each content paid for once; a killed process's claim is taken over after its lease."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nanoreverse.testing import EmulatorProcess

from .helpers import CLIPS, SECRET, YT
from .test_cli import analyze, run, start, wait_for_outputs


@pytest.fixture
def slow_emu() -> Iterator[EmulatorProcess]:
    """Answers slow enough that runs started together overlap."""
    args = ("--api-key", SECRET, "--rate-limit", "none", "--ttfb", "0.2")
    with EmulatorProcess(*args, "--chars-per-second", "20000") as emulator:
        yield emulator


def twice_each(root: Path, distinct: int) -> list[Path]:
    """``distinct`` contents, each at two paths (a/vN.mp4 and b/vN-copy.mp4)."""
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    paths = []
    for index in range(distinct):
        data = CLIPS[index % 3].read_bytes() + bytes([index])
        for path in (root / "a" / f"v{index}.mp4", root / "b" / f"v{index}-copy.mp4"):
            path.write_bytes(data)
            paths.append(path)
    return paths


def markdown_files(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): p.read_text() for p in sorted(out.rglob("*.md"))}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_four_processes_on_the_same_twenty_videos_pay_for_ten(
    slow_emu: EmulatorProcess, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    twice_each(tmp_path / "videos", 10)
    if backend == "sqlite":  # four runs on one output folder, and its store
        outs = [tmp_path / "out"] * 4
        store: tuple[str, ...] = ()
    else:  # four "machines", each with its own folder, sharing one Redis
        outs = [tmp_path / f"out{n}" for n in range(4)]
        store = ("--store", request.getfixturevalue("redis_url"))
    runs = [
        start(
            "analyze",
            str(tmp_path / "videos"),
            "--out",
            str(out),
            "--base-url",
            slow_emu.base_url,
            *store,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for out in outs
    ]
    for process in runs:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    stats = slow_emu.stats()
    assert stats["requests"] == 10 and stats["credits_used"] == 10
    for out in set(outs):
        files = markdown_files(out)
        assert len(files) == 20
        for index in range(10):  # both paths of a content hold the same, whole answer
            first, copy = files[f"a/v{index}.md"], files[f"b/v{index}-copy.md"]
            assert first == copy and "| 1 |" in first


@pytest.mark.slow
def test_a_run_killed_while_paying_is_taken_over_after_its_lease(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    for index in range(4):
        (videos / f"v{index}.mp4").write_bytes(CLIPS[index % 3].read_bytes() + bytes([index]))
    out = tmp_path / "out"
    slow = ("--ttfb", "0.1", "--chars-per-second", "1500")
    with EmulatorProcess("--api-key", SECRET, "--rate-limit", "none", *slow) as emu:
        common = ("--out", str(out), "--base-url", emu.base_url, "--lease", "1")
        first = start(
            "analyze",
            str(videos),
            *common,
            "--concurrency",
            "1",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_outputs(out, 1)
        deadline = time.monotonic() + 10
        while emu.stats()["in_flight"] < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # mid-answer: the second video's answer is streaming
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        done_before = len(list(out.rglob("*.md")))
        second = run("analyze", str(videos), *common, timeout=120)
        stats = emu.stats()
    assert second.returncode == 0, second.stderr
    assert done_before < 4
    files = markdown_files(out)
    assert sorted(files) == [f"v{index}.md" for index in range(4)]
    assert all(text.rstrip().endswith(".") for text in files.values())  # no output is partial
    assert not list(out.rglob(".nanoreverse-*")) and not list(out.rglob("*.partial.md"))
    assert 4 <= stats["credits_used"] <= 5  # at most the call that was killed, paid twice


def test_a_run_on_redis_writes_its_report_and_exports_from_that_store(
    emulator_process: EmulatorProcess, tmp_path: Path, redis_url: str
) -> None:
    # The report used to open OUT/analyses.sqlite whatever --store said: the run paid,
    # then exited 2 ("not an output folder").
    pytest.importorskip("av", reason="needs the report extra")
    import uuid

    from .test_cli import analyze

    store = f"{redis_url.rstrip('/')}/0"
    out = tmp_path / "out"
    (tmp_path / "v.mp4").write_bytes(CLIPS[1].read_bytes() + uuid.uuid4().bytes)
    done = analyze(
        emulator_process, str(CLIPS[0]), str(tmp_path / "v.mp4"), "--out", str(out),
        "--store", store, "--report",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not (out / "analyses.sqlite").exists()
    pages = {page.name.split("-en-")[0] for page in (out / "report" / "videos").glob("*.html")}
    assert (out / "report" / "index.html").is_file() and {CLIPS[0].stem, "v"} <= pages
    again = run("report", str(out), "--store", store)
    assert again.returncode == 0, again.stderr
    exported = run("export", str(out), "--store", store, "--csv", "-")
    assert exported.returncode == 0 and "shot" in exported.stdout.splitlines()[0]


def test_an_emptied_store_takes_back_the_answers_in_the_folder_and_pays_nothing(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    for clip in CLIPS[:2]:
        shutil.copy(clip, videos / clip.name)
    out = tmp_path / "out"
    assert analyze(emulator_process, str(videos), YT, "--out", str(out)).returncode == 0
    paid = emulator_process.stats()["requests"]
    for leftover in out.glob("analyses.sqlite*"):  # a crash left it zero-length
        leftover.unlink()
    (out / "analyses.sqlite").write_bytes(b"")
    os.utime(videos / CLIPS[1].name)  # this video changed after its answer was written
    again = analyze(emulator_process, str(videos), YT, "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert "put back in the store, free" in " ".join(again.stderr.split())
    assert emulator_process.stats()["requests"] == paid + 1  # only the changed video


def test_a_folder_from_the_first_release_with_its_manifest_pays_nothing_again(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    # The first release kept a manifest.jsonl beside the outputs and no store. Its answers
    # are taken back from the outputs themselves (the manifest names no store key a
    # client of today can trust: it was written before keys were scoped by API key).
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(CLIPS[0], videos / "ad.mp4")
    out = tmp_path / "out"
    out.mkdir()
    (out / "ad.md").write_text("| Shot | Camera | Duration |\n|---|---|---|\n| 1 | Pan | 3s |\n")
    entry = '{"key": "sha256:00", "locale": "en", "finished": "2026-11-20T10:00:00Z"}'
    (out / "manifest.jsonl").write_text(entry + "\n")
    done = analyze(emulator_process, str(videos), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert emulator_process.stats()["requests"] == 0
    assert "| 1 | Pan | 3s |" in (out / "ad.md").read_text()
