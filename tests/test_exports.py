"""``nanoreverse export --srt --vtt --edl --otio``: files an editor imports, read back with
parsers that are not ours (srt, webvtt-py, opentimelineio), timed against the real MP4s."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import av
import opentimelineio as otio
import pytest
import srt
import webvtt

from nanoreverse import Shot
from nanoreverse._answer.exports import frames, to_edl, to_srt, to_vtt
from nanoreverse._answer.timeline import snap_to_cuts
from nanoreverse._store import StoredAnswer
from nanoreverse.cli._export import _name
from nanoreverse.testing import EmulatorProcess

from .helpers import CLIPS, DATA, SECRET, YT
from .test_cli import analyze, run

EDL_EVENT = re.compile(r"^(\d{3})  AX +V +C +(\S+) (\S+) (\S+) (\S+)$", flags=re.MULTILINE)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("exports")
    videos = root / "videos"
    videos.mkdir()
    for clip in CLIPS[:2]:
        shutil.copy(clip, videos / clip.name)
    with EmulatorProcess("--api-key", SECRET, "--rate-limit", "none") as emu:
        done = analyze(emu, str(videos), YT, "--out", str(root / "out"))
    assert done.returncode == 0, done.stderr
    return root / "out"


def length_and_fps(path: Path) -> tuple[float, float]:
    with av.open(str(path)) as container:
        return container.duration / av.time_base, float(container.streams.video[0].average_rate)


@pytest.fixture(scope="module")
def exported(out: Path) -> tuple[Path, str]:
    done = run("export", str(out), "--srt", "--vtt", "--edl", "--otio")
    assert done.returncode == 0, done.stderr
    return out / "exports", done.stderr


def test_every_video_gets_each_format(exported: tuple[Path, str]) -> None:
    folder, stderr = exported
    names = sorted(p.name for p in folder.iterdir())
    stems = {Path(CLIPS[0].name).stem, Path(CLIPS[1].name).stem, "W-15-UmGP5s"}
    assert names == sorted(f"{s}.{k}" for s in stems for k in ("srt", "vtt", "edl", "otio"))
    assert "1 of them (links, or files PyAV could not read) counted at 25 fps" in stderr


@pytest.mark.parametrize("index", [0, 1])
def test_srt_and_vtt_cues_cover_the_real_length(exported: tuple[Path, str], index: int) -> None:
    folder, _ = exported
    clip = CLIPS[index]
    length, _ = length_and_fps(clip)
    cues = list(srt.parse((folder / f"{clip.stem}.srt").read_text(encoding="utf-8")))
    captions = list(webvtt.read(str(folder / f"{clip.stem}.vtt")).captions)
    assert len(cues) == len(captions) >= 1
    assert cues[0].start.total_seconds() == 0
    for before, after in itertools.pairwise(cues):
        assert before.end == after.start  # end to end
    assert cues[-1].end.total_seconds() == pytest.approx(length, abs=0.002)
    # Emulator answers are made up, and each format says so: SubRip in its first cue,
    # WebVTT in a NOTE block.
    mark = "[Made up by the nanoreverse emulator: not an analysis of this video]\n"
    assert cues[0].content.startswith(mark)
    vtt = (folder / f"{clip.stem}.vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT\n\nNOTE Made up by the nanoreverse emulator")
    assert [c.content.removeprefix(mark) for c in cues] == [c.text for c in captions]
    assert all(c.content.strip() for c in cues)


@pytest.mark.parametrize("index", [0, 1])
def test_edl_cuts_in_the_files_frames(exported: tuple[Path, str], index: int) -> None:
    folder, _ = exported
    clip = CLIPS[index]
    length, fps = length_and_fps(clip)
    text = (folder / f"{clip.stem}.edl").read_text(encoding="utf-8")
    assert text.startswith(f"TITLE: {clip.name}\nFCM: NON-DROP FRAME\n")
    events = EDL_EVENT.findall(text)
    assert [int(e[0]) for e in events] == list(range(1, len(events) + 1))

    def to_frame(tc: str) -> int:
        hours, minutes, seconds, frame = (int(part) for part in tc.split(":"))
        return ((hours * 60 + minutes) * 60 + seconds) * round(fps) + frame

    assert to_frame(events[0][1]) == 0
    for before, after in itertools.pairwise(events):
        assert to_frame(before[2]) == to_frame(after[1])
    assert to_frame(events[-1][2]) == round(length * fps)
    assert text.count(f"* FROM CLIP NAME: {clip.name}") == len(events)


def test_otio_reads_back_with_the_file_and_its_frames(exported: tuple[Path, str]) -> None:
    folder, _ = exported
    clip = CLIPS[0]
    length, fps = length_and_fps(clip)
    timeline = otio.adapters.read_from_file(str(folder / f"{clip.stem}.otio"))
    clips = list(timeline.find_clips())
    assert clips and all(c.media_reference.target_url.endswith(clip.name) for c in clips)
    assert clips[0].source_range.start_time.rate == fps
    assert timeline.duration().to_seconds() == pytest.approx(length, abs=1 / fps)
    assert clips[0].metadata["nanoreverse"]["number"] == 1
    link = otio.adapters.read_from_file(str(folder / "W-15-UmGP5s.otio"))
    assert all(
        isinstance(c.media_reference, otio.schema.MissingReference) for c in link.find_clips()
    )


def test_cue_text_is_escaped_and_kept_on_its_lines() -> None:
    shot = Shot(1, "Close-up", "Pan --> left", "A <b>bold</b> & bright\n\nsign.")
    vtt = to_vtt([shot], [(0.0, 1.5)])
    assert (
        "&lt;b&gt;bold&lt;/b&gt; &amp; bright sign." in vtt and "-->" not in vtt.split("\n", 4)[4]
    )
    cue = next(srt.parse(to_srt([shot], [(0.0, 1.5)])))
    assert cue.content == "A <b>bold</b> & bright sign.\nClose-up · Pan --> left"
    edl = to_edl("t", "c.mp4", [shot], [(0.0, 1.5)], 25)
    assert "* COMMENT: SHOT 1: A <b>bold</b> & bright sign. Close-up · Pan --> left\n" in edl


def test_frames_are_end_to_end_and_never_empty() -> None:
    assert frames([(0.0, 0.01), (0.01, 0.02), (0.02, 1.0)], 25) == [(0, 1), (1, 2), (2, 25)]
    assert frames([], 25) == []


def test_export_needs_a_format_and_says_what_otio_needs(
    exported: tuple[Path, str], tmp_path: Path
) -> None:
    out = exported[0].parent
    done = run("export", str(out))
    assert done.returncode == 2 and "--srt" in done.stderr
    # OpenTimelineIO made impossible to import, as where the extra is not installed.
    (tmp_path / "opentimelineio.py").write_text("raise ImportError('not installed')\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "nanoreverse",
            "export",
            str(out),
            "--otio",
            "--to",
            str(tmp_path / "x"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        timeout=60,
    )
    assert done.returncode == 2 and "pip install 'nanoreverse[otio]'" in done.stderr
    assert not (tmp_path / "x").exists()


def test_snap_moves_boundaries_to_the_real_cuts(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    # colours_12s.mp4 cuts to a new colour every second; the model's durations do not.
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(DATA / "colours_12s.mp4", videos / "colours.mp4")
    out = tmp_path / "out"
    assert analyze(emulator_process, str(videos), "--out", str(out)).returncode == 0

    def boundaries(*options: str) -> tuple[list[float], str]:
        done = run("export", str(out), "--srt", "--to", str(tmp_path / "x"), *options)
        assert done.returncode == 0, done.stderr
        cues = list(srt.parse((tmp_path / "x" / "colours.srt").read_text(encoding="utf-8")))
        return [c.start.total_seconds() for c in cues[1:]], done.stderr

    drifting, _ = boundaries()
    assert len(drifting) >= 2 and any(abs(b - round(b)) > 0.01 for b in drifting)
    snapped, stderr = boundaries("--snap")
    assert all(abs(b - round(b)) < 0.002 for b in snapped), snapped
    assert f"{len(snapped)} of {len(snapped)} shot boundaries moved to a real cut" in stderr
    assert all(abs(a - b) <= 0.5 for a, b in zip(drifting, snapped, strict=True))


def test_snap_keeps_order_tolerance_and_one_boundary_per_cut() -> None:
    ranges = [(0.0, 1.9), (1.9, 2.1), (2.1, 6.0)]
    snapped, moves = snap_to_cuts(ranges, [2.0, 5.0], 0.3)
    assert moves == [0.1, None]  # 2.1 found 2.0 already taken; 5.0 is too far from it
    assert snapped == [(0.0, 2.0), (2.0, 2.1), (2.1, 6.0)]
    assert snap_to_cuts(ranges, [], 0.5) == (ranges, [None, None])
    assert snap_to_cuts([], [1.0], 0.5) == ([], [])


@pytest.mark.parametrize("source", ["/v/..mp4", "/v/.hidden.mp4", "/v/a:b.mp4", "/v/*.mp4"])
def test_export_names_are_visible_and_stay_in_the_folder(source: str) -> None:
    # The analyse command's rule: a changed name carries a hash of the original.
    name = _name(StoredAnswer("sha256:x", "en", source, "", 0.0), set())
    assert name and not name.startswith(".") and "/" not in name and ":" not in name
    assert _name(StoredAnswer("sha256:y", "en", "/w/ad.mp4", "", 0.0), set()) == "ad"
    assert _name(StoredAnswer("sha256:y", "ja", "/w/ad.mp4", "", 0.0), set()) == "ad.ja"


def test_exports_mirror_the_folders_of_the_videos(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    videos = tmp_path / "videos"
    for folder in ("a", "b"):
        (videos / folder).mkdir(parents=True)
        shutil.copy(CLIPS[0] if folder == "a" else CLIPS[1], videos / folder / "clip.mp4")
    out = tmp_path / "out"
    assert analyze(emulator_process, str(videos), "--out", str(out)).returncode == 0
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.md")) == [
        "a/clip.md",
        "b/clip.md",
    ]
    done = run("export", str(out), "--srt", "--to", str(tmp_path / "x"))
    assert done.returncode == 0, done.stderr
    exported = sorted(p.relative_to(tmp_path / "x").as_posix() for p in (tmp_path / "x").rglob("*"))
    assert exported == ["a", "a/clip.srt", "b", "b/clip.srt"]  # as the outputs: no hashes
