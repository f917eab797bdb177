"""The answer corpus: shot lists written here in every layout of answer-formats.md and all
11 locales, each with the shots it must give; and the live parser agreeing with the whole."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nanoreverse as nr
from nanoreverse._answer.shots import ShotParser
from nanoreverse.testing import Emulator
from nanoreverse.testing._answers import plan_answer, render_answer, seed_of
from nanoreverse.testing._styles import ANSWER_STYLES, style_for

SAMPLES = sorted((Path(__file__).parent / "data" / "answers").glob("*.md"))


def load(path: Path) -> tuple[dict[str, Any], str]:
    expect, _, text = path.read_text(encoding="utf-8").partition("\n")
    return json.loads(expect), text


def test_the_corpus_covers_every_locale_and_enough_samples() -> None:
    locales = {load(path)[0]["locale"] for path in SAMPLES}
    assert locales == set(nr.LOCALES) and len(SAMPLES) >= 40


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_each_sample_gives_its_shots(path: Path) -> None:
    expect, text = load(path)
    analysis = nr.parse_analysis(text)
    shots = analysis.shots
    assert len(shots) == expect["count"], [s.cells for s in shots]
    if not shots:
        assert analysis.summary == text.strip()  # nothing lost: it is all summary
        return
    assert [s.number for s in shots] == expect["numbers"]
    seconds = [s.duration_seconds for s in shots]
    assert seconds == [pytest.approx(d) if d is not None else None for d in expect["durations"]]
    first = expect["first"]
    assert isinstance(first, dict)
    for name, value in first.items():
        assert getattr(shots[0], name) == value, (name, shots[0])
    assert analysis.locale == expect["locale"]
    assert all(s.locale == expect["locale"] for s in shots)


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_the_summary_keeps_what_is_not_a_shot(path: Path) -> None:
    _, text = load(path)
    analysis = nr.parse_analysis(text)
    for shot in analysis.shots:  # no shot's own words are in the summary twice
        if len(shot.description) > 12:
            assert (
                shot.description not in analysis.summary or shot.description in text.split("\n")[-1]
            )


def chunked(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    edges = [0, *points, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(edges)]


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
@settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=40))
def test_live_shots_are_the_whole_texts_shots_in_any_chunking(path: Path, cuts: list[int]) -> None:
    _, text = load(path)
    parser = ShotParser()
    live: list[nr.Shot] = []
    for piece in chunked(text, cuts):
        live += parser.feed(piece)
    live += parser.close()
    assert live == nr.parse_analysis(text).shots


# -- the emulator writes the variety, and the parser reads all of it ---------------------


@pytest.mark.parametrize("style", [s for s in ANSWER_STYLES if s != "mixed"])
@pytest.mark.parametrize("locale", nr.LOCALES)
def test_every_emulator_style_gives_the_shots_it_planned(style: str, locale: str) -> None:
    seed, length = seed_of(b"a video"), 23.4
    text = render_answer(seed, length, locale, style)
    planned = plan_answer(seed, length, locale)
    analysis = nr.parse_analysis(text)
    assert analysis.made_up and analysis.locale == locale
    assert [s.number for s in analysis.shots] == [p.number for p in planned]
    assert [s.duration_seconds for s in analysis.shots] == [
        pytest.approx(p.length) for p in planned
    ]
    for shot, plan in zip(analysis.shots, planned, strict=True):
        assert (shot.framing, shot.movement) == (plan.framing, plan.movement)
        assert shot.description.casefold() == plan.description.casefold()
        assert plan.audio in shot.audio
        assert shot.locale == locale
    live = ShotParser()
    found = [s for i in range(0, len(text), 7) for s in live.feed(text[i : i + 7])]
    assert found + live.close() == analysis.shots


def test_mixed_picks_every_style_across_videos_and_one_per_video() -> None:
    seeds = [seed_of(str(n).encode()) for n in range(60)]
    assert {style_for("mixed", seed) for seed in seeds} == set(ANSWER_STYLES) - {"mixed"}
    assert render_answer(seeds[0], 9.0, "de", "mixed") == render_answer(
        seeds[0], 9.0, "de", "mixed"
    )
    with pytest.raises(ValueError, match="answer_style must be one of"):
        Emulator(answer_style="poem")
