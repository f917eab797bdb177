"""The command line, run as a real subprocess against an emulator in another process."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from nanoreverse.cli._inputs import collect, safe_stem
from nanoreverse.cli._output import OutputFolder
from nanoreverse.testing import Emulator, EmulatorProcess

from .helpers import CLIPS, DATA, SECRET, YT


def start(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    """The command in the background, with the key set, as a user would start it."""
    return subprocess.Popen(
        [sys.executable, "-m", "nanoreverse", *args],
        env={**os.environ, "NANOPHOTO_API_KEY": SECRET, "PYTHONFAULTHANDLER": "1"},
        text=True,
        **kwargs,
    )


def run(
    *args: str, key: str | None = SECRET, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NANOPHOTO_API_KEY"}
    if key is not None:
        env["NANOPHOTO_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "nanoreverse", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def analyze(
    emulator_process: EmulatorProcess | Emulator,
    *args: str,
    key: str | None = SECRET,
    stdin: str | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """``nanoreverse analyze ARGS`` against ``emulator_process``."""
    return run(
        "analyze",
        *args,
        "--base-url",
        emulator_process.base_url,
        key=key,
        stdin=stdin,
        timeout=timeout,
    )


@pytest.fixture
def videos(tmp_path: Path) -> Path:
    """Videos in subfolders, an upper-case .MP4, and files that are not videos."""
    root = tmp_path / "videos"
    (root / "ads" / "spring").mkdir(parents=True)
    (root / "travel").mkdir()
    shutil.copy(CLIPS[0], root / "ads" / "first.mp4")
    shutil.copy(CLIPS[1], root / "ads" / "spring" / "SECOND.MP4")
    shutil.copy(CLIPS[2], root / "travel" / "third.mp4")
    (root / "notes.txt").write_text("not a video")
    (root / "travel" / "cover.jpg").write_bytes(b"\xff\xd8\xff")
    return root


def distinct_videos(folder: Path, count: int) -> Path:
    """``count`` real MP4s with distinct contents (so none is deduplicated away)."""
    folder.mkdir()
    for index in range(count):
        (folder / f"v{index}.mp4").write_bytes(CLIPS[index % 3].read_bytes() + bytes([index]))
    return folder


def wait_for_outputs(out: Path, count: int) -> int:
    """Wait (30 s at most) until a running command has written ``count`` Markdown files."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        written = len(list(out.rglob("*.md")))
        if written >= count:
            return written
        time.sleep(0.02)
    raise AssertionError(f"fewer than {count} outputs in {out} after 30 s")


def outputs(out: Path) -> list[str]:
    """The files of an output folder, but for its store and its owner's mark."""
    return sorted(
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and not p.name.startswith("analyses.sqlite") and p.name != ".nanoreverse"
    )


def test_folder_tree_is_mirrored_and_rerun_pays_nothing(
    emulator_process: EmulatorProcess, videos: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = analyze(emulator_process, str(videos), "--out", str(out))
    assert first.returncode == 0, first.stderr
    assert outputs(out) == ["ads/first.md", "ads/spring/SECOND.md", "travel/third.md"]
    assert "| 1 |" in (out / "ads" / "first.md").read_text()
    assert "3 analysed, 0 failed; 3 credits spent" in first.stderr
    assert emulator_process.stats()["credits_used"] == 3

    # Moved and renamed, the same videos are still known by their content, and the moved
    # one gets its output at its new place, free.
    (videos / "ads" / "first.mp4").rename(videos / "renamed.mp4")
    again = analyze(emulator_process, str(videos), "--out", str(out))
    assert again.returncode == 0 and "3 from the store (free); 0 credits" in again.stderr
    assert emulator_process.stats()["requests"] == 3
    assert (out / "renamed.md").read_text() == (out / "ads" / "first.md").read_text()

    forced = analyze(emulator_process, str(videos / "renamed.mp4"), "--out", str(out), "--force")
    assert forced.returncode == 0 and emulator_process.stats()["requests"] == 4


def test_a_failure_exits_1_and_the_rerun_redoes_only_it(videos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with EmulatorProcess(
        "--api-key", SECRET, "--rate-limit", "none", "--credits", "2"
    ) as emulator_process:
        first = analyze(emulator_process, str(videos), "--out", str(out), "--concurrency", "1")
    assert first.returncode == 1
    assert "1 × INSUFFICIENT_CREDITS" in first.stderr
    (failure,) = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    assert failure["errorCode"] == "INSUFFICIENT_CREDITS" and failure["attempts"] == 1
    assert {"source", "message", "time", "status"} <= set(failure)
    with EmulatorProcess("--api-key", SECRET, "--rate-limit", "none") as emulator_process:
        second = analyze(emulator_process, str(videos), "--out", str(out))
        assert second.returncode == 0, second.stderr
        assert emulator_process.stats()["requests"] == 1  # only the failed one
    assert "2 from the store" in second.stderr
    assert len([p for p in outputs(out) if p.endswith(".md")]) == 3


def test_kill_9_mid_run_then_rerun_completes_with_no_partial_files(tmp_path: Path) -> None:
    videos = distinct_videos(tmp_path / "videos", 8)
    out = tmp_path / "out"
    with EmulatorProcess(
        "--api-key", SECRET, "--rate-limit", "none", "--ttfb", "0.3", "--chars-per-second", "4000"
    ) as emulator_process:
        process = start(
            "analyze",
            str(videos),
            "--out",
            str(out),
            "--base-url",
            emulator_process.base_url,
            "--concurrency",
            "2",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_outputs(out, 3)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        finished_before = len(list(out.rglob("*.md")))
        assert 3 <= finished_before < 8
        # A short lease: the killed run's claims on the two videos in flight run out soon.
        rerun = analyze(emulator_process, str(videos), "--out", str(out), "--lease", "1")
        assert rerun.returncode == 0, rerun.stderr
        paid = emulator_process.stats()["credits_used"]
    finished = [p for p in outputs(out) if p.endswith(".md")]
    assert len(finished) == 8
    for name in finished:  # and no output is ever partial
        assert (out / name).read_text().rstrip().endswith(".")
    assert 8 <= paid <= 8 + 2  # at most the two in flight were paid again


def test_stdin_and_at_file_sources_with_duplicates(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text(f"# my videos\n{CLIPS[0]}\n\n{YT}\n")
    out = tmp_path / "out"
    result = analyze(
        emulator_process,
        "-",
        f"@{listing}",
        str(CLIPS[0]),
        "--out",
        str(out),
        stdin=f"{YT}\nhttps://www.youtube.com/watch?v=W-15-UmGP5s&t=3\n{CLIPS[1]}\n",
    )
    assert result.returncode == 0, result.stderr
    assert outputs(out) == sorted(
        [f"{CLIPS[0].stem}.md", f"{CLIPS[1].stem}.md", "youtube-W-15-UmGP5s.md"]
    )
    assert emulator_process.stats()["requests"] == 3  # each video once


def test_dry_run_sends_nothing(
    emulator_process: EmulatorProcess, videos: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    analyze(emulator_process, str(videos / "travel"), "--out", str(out))
    result = analyze(emulator_process, str(videos), YT, "--out", str(out), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "3 to pay (at most 3 credits), 1 stored (free)" in result.stdout
    assert "stored    " in result.stdout and "to pay    " in result.stdout
    assert emulator_process.stats()["requests"] == 1  # only the first, real run


def test_one_source_without_out_streams_to_stdout(emulator_process: EmulatorProcess) -> None:
    result = analyze(emulator_process, YT, "--locale", "ja")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("> Made up by the nanoreverse emulator")  # said first
    assert "\n| ショット |" in result.stdout and "全体のまとめ" in result.stdout


def test_the_key_appears_in_no_output(
    emulator_process: EmulatorProcess, videos: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    texts = []
    for args in (
        (
            "analyze",
            str(videos),
            YT,
            "--out",
            str(out),
            "--base-url",
            emulator_process.base_url,
            "--format",
            "both",
        ),
        (
            "analyze",
            str(tmp_path / "nope.mp4"),
            "--out",
            str(out),
            "--base-url",
            emulator_process.base_url,
        ),
        ("analyze", YT, "--base-url", emulator_process.base_url),
    ):
        result = run(*args)
        texts += [result.stdout, result.stderr]
    wrong = analyze(emulator_process, YT, key="sk-wrong-" + SECRET)
    texts += [wrong.stdout, wrong.stderr]
    assert wrong.returncode == 1 and "LOGIN_REQUIRED" in wrong.stderr
    assert "Traceback" not in wrong.stderr  # a clean message, not a crash
    texts += [p.read_text(errors="replace") for p in out.rglob("*") if p.is_file()]
    assert not any(SECRET in text for text in texts)


def test_api_key_file(emulator_process: EmulatorProcess, tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(SECRET + "\n")
    result = analyze(emulator_process, YT, "--api-key-file", str(key_file), key=None)
    assert result.returncode == 0 and "| 1 |" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("analyze",),
        ("analyze", YT, "--concurrency", "0"),
        ("analyze", YT, "--rate", "fast"),
        ("analyze", YT, "--locale", "xx"),
        ("analyze", YT, "--base-url", "http://example.com"),
        ("analyze", "@/no/such/list.txt"),
    ],
)
def test_bad_usage_exits_2(args: tuple[str, ...]) -> None:
    assert run(*args).returncode == 2


def test_no_key_is_a_usage_error_that_points_at_the_emulator() -> None:
    result = run("analyze", YT, key=None)
    assert result.returncode == 2 and "--emulator" in result.stderr


def test_every_source_refused_before_sending_exits_2(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    result = analyze(
        emulator_process,
        str(bad),
        str(tmp_path / "missing.mp4"),
        "https://www.youtube.com/@chan",
        "--out",
        str(tmp_path / "out"),
    )
    assert result.returncode == 2
    assert emulator_process.stats()["requests"] == 0


def wait_in_flight(emulator_process: EmulatorProcess, count: int) -> None:
    deadline = time.monotonic() + 30
    while emulator_process.stats()["in_flight"] < count:
        assert time.monotonic() < deadline, f"never {count} calls in flight"
        time.sleep(0.02)


def test_ctrl_c_finishes_the_calls_in_flight_and_starts_no_more(tmp_path: Path) -> None:
    videos = distinct_videos(tmp_path / "videos", 6)
    out = tmp_path / "out"
    with EmulatorProcess(
        "--api-key", SECRET, "--rate-limit", "none", "--ttfb", "0.5"
    ) as emulator_process:
        process = start(
            "analyze", str(videos), "--out", str(out), "--base-url", emulator_process.base_url,
            "--concurrency", "3", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        wait_in_flight(emulator_process, 3)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
        stats = emulator_process.stats()
    assert process.returncode == 130, stderr
    # The three paid calls were finished and written; nothing else was sent.
    assert stats["requests"] == stats["credits_used"] == 3
    assert len(list(out.rglob("*.md"))) == 3 and not list(out.rglob("*.partial.md"))
    assert "3 analysed" in stderr and "3 not started" in stderr and "3 credits" in stderr
    assert not list(out.rglob("*.tmp"))


def test_a_second_ctrl_c_stops_the_calls_in_flight_and_keeps_their_text(tmp_path: Path) -> None:
    videos = distinct_videos(tmp_path / "videos", 6)
    out = tmp_path / "out"
    slow = ("--chars-per-second", "300", "--chunk-bytes", "16")
    with EmulatorProcess("--api-key", SECRET, "--rate-limit", "none", *slow) as emulator_process:
        process = start(
            "analyze", str(videos), "--out", str(out), "--base-url", emulator_process.base_url,
            "--concurrency", "3", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        wait_in_flight(emulator_process, 3)
        time.sleep(0.3)  # the answers have begun
        process.send_signal(signal.SIGINT)
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
        stats = emulator_process.stats()
    assert process.returncode == 130, stderr
    partial = list(out.rglob("*.partial.md"))
    assert len(partial) == 3 and all("\n| Shot |" in p.read_text() for p in partial)
    assert stats["requests"] == 3
    assert "3 stopped mid-answer" in stderr and "3 not started" in stderr, stderr
    assert "3 credits" in stderr
    failures = (out / "failures.jsonl").read_text().splitlines()
    assert len(failures) == 3 and all(json.loads(f)["partial_chars"] > 0 for f in failures)


def test_export_csv(emulator_process: EmulatorProcess, videos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    analyze(emulator_process, str(videos), "--out", str(out), "--format", "both")
    data = json.loads((out / "ads" / "first.json").read_text())
    assert data["shots"][0]["number"] == 1 and data["source"].endswith("first.mp4")
    result = run("export", str(out), "--csv", str(tmp_path / "shots.csv"))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader((tmp_path / "shots.csv").read_text(encoding="utf-8").splitlines()))
    assert {row["video"] for row in rows} == {
        str(p) for p in videos.rglob("*") if p.suffix.lower() == ".mp4"
    }
    assert rows[0]["shot"] == "1" and float(rows[0]["duration_seconds"]) > 0
    assert len(rows) == sum(len(json.loads(p.read_text())["shots"]) for p in out.rglob("*.json"))


# -- names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (["..", "..", "etc", "passwd"], "_-5ec1f7/_-5ec1f7/etc/passwd"),
        (["/abs", "x"], "_abs-e802dc/x"),
        (["a:b*c?d", "e<f>g|h"], "a_b_c_d-155401/e_f_g_h-69a12d"),
        ([".hidden"], "hidden-169241"),
        (["日本語", "vidéo"], "日本語/vidéo"),
        (["x" * 300], "x" * 100 + "-0d4e2c"),
        # #28: every character every file system takes is kept.
        (["Ad (final v2)"], "Ad (final v2)"),
        (
            ["Tom's clip", "A&B, take 3", "clip #3 + music 🎬"],
            "Tom's clip/A&B, take 3/clip #3 + music 🎬",
        ),
        (["CON"], "CON_-a3dbc4"),
    ],
)
def test_output_names_are_safe(parts: list[str], expected: str) -> None:
    assert str(safe_stem(parts)) == expected


def test_output_folder_refuses_to_escape(tmp_path: Path) -> None:
    folder = OutputFolder(tmp_path / "out")
    for stem in (PurePosixPath("../x"), PurePosixPath("/etc/x"), PurePosixPath("a/../../x")):
        with pytest.raises(ValueError, match="leave the output folder"):
            folder.path_for(stem, ".md")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "link").symlink_to(tmp_path)
    with pytest.raises(ValueError):
        folder.path_for(PurePosixPath("link/x"), ".md")


def test_a_torn_or_undecodable_failure_log_never_swallows_a_record(tmp_path: Path) -> None:
    from nanoreverse.report._collect import _failures

    folder = OutputFolder(tmp_path / "out")
    folder.record_failure(source="a.mp4", locale="en", errorCode="INTERNAL_ERROR")
    log = tmp_path / "out" / "failures.jsonl"
    with log.open("ab") as file:  # a run killed mid-line, and bytes that are not UTF-8
        file.write(b'{"source": "b.mp4", "loc\xff\xfe')
    folder.record_failure(source="c.mp4", locale="en", errorCode="VIDEO_DOWNLOAD_FAILED")
    assert [entry["source"] for entry in _failures(log)] == ["a.mp4", "c.mp4"]
    assert len(log.read_bytes().splitlines()) == 3


def test_url_names_and_collisions(tmp_path: Path) -> None:
    shutil.copy(CLIPS[0], tmp_path / "same.mp4")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "same.mp4").write_bytes(CLIPS[1].read_bytes())
    items = collect(
        [
            str(tmp_path / "same.mp4"),
            str(tmp_path / "sub" / "same.mp4"),
            "https://cdn.example.com/path/ad%20one.mp4?sig=1",
            YT,
        ]
    )
    stems = [str(i.stem) for i in items]
    assert stems[0] == "same" and stems[1].startswith("same-") and len(set(stems)) == 4
    assert stems[2].startswith("url-") and stems[2].endswith("ad%20one")
    assert stems[3] == "youtube-W-15-UmGP5s"


def test_the_same_file_named_twice_is_one_item() -> None:
    items = collect([str(DATA), str(CLIPS[0])])
    assert len(items) == len(CLIPS)


def test_a_broken_answer_keeps_its_text_and_progress_lines(tmp_path: Path) -> None:
    from nanoreverse.testing import Fault

    out = tmp_path / "out"
    with Emulator(api_keys=(SECRET,), rate_limit=None).in_thread() as emulator:
        emulator.script(Fault.drop_after(120))
        broken = analyze(
            emulator, str(CLIPS[0]), str(CLIPS[1]), "--out", str(out), "--concurrency", "1"
        )
        quiet = analyze(emulator, str(CLIPS[2]), "--out", str(out), "--quiet")
    assert broken.returncode == 1
    partial = out / f"{CLIPS[0].stem}.partial.md"
    assert partial.read_text().encode() == emulator.requests[0].answer.encode()
    assert len(partial.read_bytes()) == 120  # every byte that was paid for is kept
    assert f"done  {CLIPS[1]}" in broken.stderr and f"FAIL  {CLIPS[0]}" in broken.stderr
    assert "1 × StreamInterruptedError" in broken.stderr
    assert quiet.returncode == 0 and "done  " not in quiet.stderr and "1 analysed" in quiet.stderr
