"""The storyboard: frames from real MP4s, pages checked in a real headless Chromium."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

pytest.importorskip("av", reason="needs the report extra: pip install -e '.[dev]'")

import nanoreverse as nr
from nanoreverse._answer.timeline import shot_ranges
from nanoreverse._store import StoreKey
from nanoreverse.report import NotAnOutputFolder, _build, build_report
from nanoreverse.report._frames import frames_at, video_length

from .helpers import COLOURS, DATA, YT

T = TypeVar("T")
COLOUR_CLIP = DATA / "colours_12s.mp4"


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a fresh loop in a worker thread (Playwright's sync API keeps a loop
    running in the main thread while the browser is open)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def table(*rows: tuple[str, ...]) -> str:
    lines = [
        "| Shot | Framing | Movement | Description | Audio | Duration |",
        "|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n\nSummary: a test.\n"


def centre(image: Any) -> tuple[int, int, int]:
    pixel: tuple[int, int, int] = image.convert("RGB").getpixel(
        (image.width // 2, image.height // 2)
    )
    return pixel


def close_to(found: tuple[int, int, int], wanted: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 24 for a, b in zip(found, wanted, strict=True))


# -- frames and times -------------------------------------------------------------------------


def test_frames_are_taken_at_the_moment_asked() -> None:
    moments = [0.0, 0.45, 1.5, 3.95, 4.05, 7.5, 10.2, 11.9]
    images = frames_at(COLOUR_CLIP, moments)
    assert len(images) == len(moments)
    for moment, image in zip(moments, images, strict=True):
        assert close_to(centre(image), COLOURS[int(moment)]), (moment, centre(image))
    assert video_length(COLOUR_CLIP) == pytest.approx(12.0, abs=0.05)


def test_shot_times_are_scaled_to_the_real_length() -> None:
    assert shot_ranges([2.0, 4.0], 6.0) == [(0.0, 2.0), (2.0, 6.0)]
    assert shot_ranges([1.0, 2.0, 1.0], 8.0) == [(0.0, 2.0), (2.0, 6.0), (6.0, 8.0)]
    assert shot_ranges([3.0, None], 6.0) == [(0.0, 3.0), (3.0, 6.0)]
    assert shot_ranges([2.0, 2.0], None) == [(0.0, 2.0), (2.0, 4.0)]


@pytest.mark.slow
def test_memory_stays_bounded_for_a_30_mib_video(tmp_path: Path) -> None:
    from nanoreverse.testing._videos import make_video

    big = make_video(
        tmp_path / "big.mp4",
        seconds=60,
        fps=25,
        size=(640, 360),
        noise=640 * 3 * 240,
        colours=[(i * 20 % 255, 80, 200) for i in range(12)],
    )
    assert big.stat().st_size > 25 * 2**20
    script = (
        "import sys, pathlib\n"
        "from nanoreverse.report._frames import frames_at\n"
        "def hwm():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM'): return int(line.split()[1]) / 1024\n"
        "frames_at(pathlib.Path(sys.argv[1]), [1.0])\n"  # imports and codec warmed up
        "open('/proc/self/clear_refs', 'w').write('5'); before = hwm()\n"
        "frames_at(pathlib.Path(sys.argv[1]), [i * 5 + 2.5 for i in range(12)])\n"
        "print(hwm() - before)\n"
    )
    growth = float(
        subprocess.run(
            [sys.executable, "-c", script, str(big)], capture_output=True, text=True, check=True
        ).stdout
    )
    assert growth < 40, (
        f"decoding 12 frames of a {big.stat().st_size >> 20} MiB video grew RSS by {growth:.1f} MiB"
    )


# -- a folder to report on --------------------------------------------------------------------

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">'


async def _folder(out: Path, clip: Path) -> None:
    store = nr.SQLiteStore(out / "analyses.sqlite")
    answers = [
        (
            "sha256:colours",
            "en",
            str(clip),
            table(
                ("1", "Wide", "Static", "Red then green", "None", "1.5s"),
                ("2", "Close-up", "Pan left", HOSTILE, "BGM", "3s"),
                ("3", "Medium", "Dolly in", "Yellow to blue", "Voice", "4.5s"),
            ),
        ),
        (
            "sha256:colours",
            "ar",
            str(clip),
            table(
                ("1", "لقطة واسعة", "ثابتة", "وصف", "موسيقى", "6 ثوانٍ"),
                ("2", "قريبة", "تحريك", "وصف آخر", "صمت", "6 ثوانٍ"),
            ),
        ),
        (
            "youtube:W-15-UmGP5s",
            "en",
            YT,
            table(("1", "Wide", "Static", "A link video", "None", "4s")),
        ),
        (
            "sha256:gone",
            "en",
            str(out.parent / "moved-away.mp4"),
            table(("1", "Wide", "Static", "Moved", "None", "2s")),
        ),
        ("sha256:notable", "en", str(clip), "No table here, only words."),
    ]
    async with store:
        for identity, locale, source, markdown in answers:
            key = StoreKey("scope", identity, locale)
            await store.lookup(key, "me")
            await store.finish(key, "me", markdown, source=source)
    failure = '{"source": "broken.mp4", "locale": "en", "errorCode": "INVALID_FORMAT"}'
    (out / "failures.jsonl").write_text(failure + '\n{"torn line')


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    clip = tmp_path / "videos" / "colours.mp4"
    clip.parent.mkdir()
    shutil.copy(COLOUR_CLIP, clip)
    run(_folder(out, clip))
    return out


def test_every_video_gets_a_page_and_problems_are_told_per_video(folder: Path) -> None:
    report = run(build_report(folder))
    assert report.index.is_file() and report.made == 5
    pages = sorted((folder / "report" / "videos").glob("*.html"))
    assert len(pages) == 5
    problems = "\n".join(report.problems)
    assert "given as a link" in problems and "not there any more" in problems
    assert "No shot list was found" in problems and "INVALID_FORMAT" in problems
    index = report.index.read_text()
    assert "broken.mp4" in index and "failed" in index
    # One thumbnail per shot (the durations add up to 9 s, scaled to the real 12 s).
    english = next(p for p in pages if "-en-" in p.name and "colours" in p.name)
    html = english.read_text()
    assert html.count('<img src="../thumbs/') == 3 and "sheets/" in html
    assert "&lt;script&gt;" in html and "<script>window.__pwned" not in html


def test_a_rerun_remakes_only_what_changed_and_reuses_thumbnails(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(build_report(folder))

    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cached thumbnail was decoded again")

    monkeypatch.setattr(_build, "frames_at", no_decoding)
    again = run(build_report(folder))
    assert (again.made, again.kept) == (0, 5)
    clip = next((folder.parent / "videos").glob("*.mp4"))
    os.utime(clip, ns=(clip.stat().st_atime_ns, clip.stat().st_mtime_ns + 10**9))
    touched = run(build_report(folder))
    assert touched.made == 3 and touched.kept == 2  # the pages of that file, and only those


def test_a_file_that_no_longer_decodes_is_told_and_the_rest_written(folder: Path) -> None:
    clip = next((folder.parent / "videos").glob("*.mp4"))
    clip.write_bytes(b"\0\0\0\x20ftypisom" + b"garbage" * 100)
    report = run(build_report(folder))
    assert any("could not be decoded" in p for p in report.problems)
    assert report.made == 5 and report.index.is_file()


def test_not_an_output_folder(tmp_path: Path) -> None:
    with pytest.raises(NotAnOutputFolder, match="not an output folder"):
        run(build_report(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "nanoreverse", "report", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "not an output folder" in result.stderr


def test_without_the_extra_report_says_what_to_install(folder: Path) -> None:
    script = (
        "import sys; sys.modules['av'] = None\n"
        "from nanoreverse.cli import main\n"
        f"sys.exit(main(['report', {str(folder)!r}]))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 2
    assert "pip install 'nanoreverse[report]'" in result.stderr and "Traceback" not in result.stderr


# -- in a real browser ------------------------------------------------------------------------


def _visit(browser: Any, url: str, width: int) -> tuple[Any, Any, list[str], list[str]]:
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url)
    page.wait_for_load_state("load")
    page.evaluate("Promise.all([...document.images].map(i => i.decode().catch(() => null)))")
    return context, page, errors, requests


def _not_blank(path: Path) -> bool:
    from PIL import Image, ImageStat

    with Image.open(path) as image:
        return max(ImageStat.Stat(image.convert("L")).stddev) > 5


def test_pages_in_a_real_browser(folder: Path, browser: Any, tmp_path: Path) -> None:
    shutil.rmtree(folder / "report", ignore_errors=True)
    run(build_report(folder))
    root = folder / "report"
    pages = [root / "index.html", *sorted((root / "videos").glob("*.html"))]
    for page_path in pages:
        for width in (390, 1280):
            context, page, errors, requests = _visit(browser, page_path.as_uri(), width)
            try:
                widths = page.evaluate("[...document.images].map(i => [i.alt, i.naturalWidth])")
                assert all(alt and natural > 0 for alt, natural in widths), (page_path.name, widths)
                assert errors == [], (page_path.name, errors)
                assert all(url.startswith("file://") for url in requests), requests
                assert page.evaluate("window.__pwned") is None
                shot = tmp_path / f"{page_path.stem}-{width}.png"
                page.screenshot(path=str(shot), full_page=True)
                assert _not_blank(shot), shot
            finally:
                context.close()
    english = next(p for p in pages if "colours-en-" in p.name)
    context, page, _, _ = _visit(browser, english.as_uri(), 1280)
    try:
        assert HOSTILE.split("<img")[0] in page.inner_text("body")  # shown as text, inert
        page.click("button[data-copy=prompt-1]")
        expected = page.inner_text("#prompt-1")
        assert page.evaluate("navigator.clipboard.readText()") == expected
        assert page.inner_text("button[data-copy=prompt-1]") == "Copied"
    finally:
        context.close()
    arabic = next(p for p in pages if "colours-ar-" in p.name)
    context, page, _, _ = _visit(browser, arabic.as_uri(), 390)
    try:
        assert page.evaluate("document.documentElement.dir") == "rtl"
        assert page.evaluate("document.documentElement.lang") == "ar"
    finally:
        context.close()


def test_an_answer_of_ten_thousand_rows_gives_a_report_with_a_bounded_sheet(
    tmp_path: Path,
) -> None:
    # #29 item 7: 10,000 rows took 200 s and 3.5 GiB, then a contact sheet too tall for
    # JPEG, and no report at all.
    out = tmp_path / "out"
    out.mkdir()
    clip = tmp_path / "colours.mp4"
    shutil.copy(COLOUR_CLIP, clip)
    rows = [(str(n), "Wide", "Static", f"Row {n}", "None", "0.1s") for n in range(1, 10_001)]

    async def fill() -> None:
        async with nr.SQLiteStore(out / "analyses.sqlite") as store:
            key = StoreKey("scope", "sha256:huge", "en")
            await store.lookup(key, "me")
            await store.finish(key, "me", table(*rows), source=str(clip))

    run(fill())
    report = run(build_report(out))
    assert report.index.is_file()
    [page] = list((out / "report" / "videos").glob("*.html"))
    text = page.read_text()
    assert "Row 10000" in text and "frames are shown for the first 240 only" in text
    assert len(list((out / "report" / "thumbs").iterdir())) <= _build.MAX_FRAMES + 1
    from PIL import Image

    [sheet] = list((out / "report" / "sheets").iterdir())
    with Image.open(sheet) as image:
        assert image.height < 65_500


def test_a_large_folder_gets_a_filter_and_link_pages_no_empty_column(
    tmp_path: Path, browser: Any
) -> None:
    out = tmp_path / "out"
    out.mkdir()

    async def fill() -> None:
        async with nr.SQLiteStore(out / "analyses.sqlite") as store:
            for number in range(14):
                key = StoreKey("scope", f"youtube:video{number:06d}", "en")
                await store.lookup(key, "me")
                markdown = table(("1", "Wide", "Static", f"Link video {number}", "None", "4s"))
                source = f"https://www.youtube.com/watch?v=video{number:06d}"
                await store.finish(key, "me", markdown, source=source)

    run(fill())
    run(build_report(out))
    context, page, errors, _ = _visit(browser, (out / "report" / "index.html").as_uri(), 1280)
    try:
        assert page.locator(".card:visible").count() == 14
        page.fill("#filter", "video000003")
        assert page.locator(".card:visible").count() == 1
        page.fill("#filter", "")
        assert page.locator(".card:visible").count() == 14 and errors == []
        (video_page,) = sorted((out / "report" / "videos").glob("*.html"))[:1]
        page.goto(video_page.as_uri())
        columns = page.eval_on_selector(".shot", "s => getComputedStyle(s).gridTemplateColumns")
        assert len(columns.split()) == 1, columns  # no empty frame column for a link
    finally:
        context.close()
