"""Every layout the emulator writes goes through everything downstream: the command line's
JSON, CSV, SRT, VTT, EDL, OTIO, ``--snap`` and the storyboard, each read back."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import opentimelineio as otio
import pytest
import srt
import webvtt

from nanoreverse.testing import EmulatorProcess
from nanoreverse.testing._styles import ANSWER_STYLES

from .helpers import DATA, SECRET
from .test_cli import analyze, run

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("style", [s for s in ANSWER_STYLES if s != "mixed"])
@pytest.mark.parametrize("locale", ["ja"])
def test_a_style_goes_through_every_output(style: str, locale: str, tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(DATA / "colours_12s.mp4", videos / "colours.mp4")
    out = tmp_path / "out"
    with EmulatorProcess(
        "--api-key", SECRET, "--rate-limit", "none", "--answer-style", style
    ) as emulator:
        done = analyze(emulator, str(videos), "--out", str(out), "--locale", locale, "--report",
                       "--format", "both")  # fmt: skip
    assert done.returncode == 0, done.stderr
    (data,) = [json.loads(p.read_text(encoding="utf-8")) for p in out.rglob("colours*.json")]
    shots = data["shots"]
    count = len(shots)
    assert count == 5 and all(s["duration_seconds"] for s in shots)
    assert sum(s["duration_seconds"] for s in shots) == pytest.approx(12.0, abs=0.2)
    assert all(s["framing"] and s["movement"] and s["description"] for s in shots)
    assert "カメラ：" in shots[0]["prompt"] and "Camera" not in shots[0]["prompt"]

    exports = tmp_path / "exports"
    done = run("export", str(out), "--srt", "--vtt", "--edl", "--otio", "--snap", "0.5",
               "--to", str(exports), "--csv", str(tmp_path / "shots.csv"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    cues = list(srt.parse((exports / "colours.ja.srt").read_text(encoding="utf-8")))
    assert len(cues) == count and cues[-1].end.total_seconds() == pytest.approx(12.0, abs=0.05)
    assert len(webvtt.read(str(exports / "colours.ja.vtt"))) == count
    assert len(re.findall(r"^\d{3}  AX", (exports / "colours.ja.edl").read_text(), re.M)) == count
    timeline = otio.adapters.read_from_file(str(exports / "colours.ja.otio"))
    assert len(list(timeline.find_clips())) == count
    assert "shot boundaries moved to a real cut" in done.stderr
    rows = list(csv.DictReader((tmp_path / "shots.csv").read_text(encoding="utf-8").splitlines()))
    assert len(rows) == count

    (page,) = (out / "report" / "videos").glob("*.html")
    html = page.read_text(encoding="utf-8")
    assert html.count('class="shot"') == count and "<h2>Summary</h2>" in html
    assert "## " not in html.split("<h2>Summary</h2>")[1]  # the summary is rendered, not raw
    assert list((out / "report" / "sheets").glob("*.jpg"))
