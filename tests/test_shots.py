"""Shot tables: GFM rules, the 11 locales, durations, live parsing, properties."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import nanoreverse as nr
from nanoreverse._answer.columns import FIELDS, map_titles
from nanoreverse._answer.durations import parse_duration
from nanoreverse._answer.shots import ShotParser, _parse, render_table
from nanoreverse._answer.tables import split_row
from nanoreverse.testing import Emulator
from nanoreverse.testing._words import column_titles

from .helpers import YT


def grammar(markdown: str) -> nr.Analysis:
    """The answer read with GFM's table grammar alone: every table taken as shots."""
    return _parse(markdown, every_table=True)


def cells(markdown: str) -> list[list[str]]:
    return [list(shot.cells.values()) for shot in grammar(markdown).shots]


# -- the GFM specification's table examples (198-205), cell by cell ------------------

GFM_EXAMPLES = [
    ("| foo | bar |\n| --- | --- |\n| baz | bim |", [["baz", "bim"]]),
    ("| abc | defghi |\n:-: | -----------:\nbar | baz", [["bar", "baz"]]),
    ("| f\\|oo  |\n| ------ |\n| b `\\|` az |\n| b **\\|** im |", [["b `|` az"], ["b **|** im"]]),
    ("| abc | def |\n| --- | --- |\n| bar | baz |\n> bar", [["bar", "baz"]]),
    ("| abc | def |\n| --- | --- |\n| bar | baz |\nbar\n\nbar", [["bar", "baz"], ["bar", ""]]),
    ("| abc | def |\n| --- |\n| bar |", []),
    (
        "| abc | def |\n| --- | --- |\n| bar |\n| bar | baz | boo |",
        [["bar", ""], ["bar", "baz", "boo"]],
    ),
    ("| abc | def |\n| --- | --- |", []),
]


@pytest.mark.parametrize(("markdown", "expected"), GFM_EXAMPLES)
def test_gfm_spec_examples(markdown: str, expected: list[list[str]]) -> None:
    # GFM drops cells beyond the header (example 204's "boo"); we keep them: never lose text.
    assert cells(markdown) == expected


def test_gfm_titles_and_text_outside_tables() -> None:
    analysis = grammar(GFM_EXAMPLES[2][0])
    assert list(analysis.shots[0].cells) == ["f|oo"]
    assert grammar(GFM_EXAMPLES[3][0]).summary == "> bar"
    assert grammar(GFM_EXAMPLES[4][0]).summary == "bar"
    assert grammar(GFM_EXAMPLES[5][0]).summary == GFM_EXAMPLES[5][0]


def test_extra_cells_are_kept_under_a_column_name() -> None:
    (_, shot) = grammar(GFM_EXAMPLES[6][0]).shots
    assert shot.cells == {"abc": "bar", "def": "baz", "column 3": "boo"}


# -- layouts the model may produce ----------------------------------------------------


def test_a_realistic_answer_with_everything_around_it() -> None:
    markdown = (
        "# Video breakdown\r\n\r\nIntro text.\r\n\r\n"
        "### Scene 1\r\n"
        "Shot # | Shot Type / Angle | Camera | Visual Description | Sound | Time | Notes\r\n"
        ":---|:---:|---:|---|---|---|---\r\n"
        "**1** | Wide, *eye level* | Static | A `|` sign \\| glowing | BGM | 0:00–0:03 | x\r\n"
        "2 | Close-up | Pan | Hands |\r\n"
        "\r\n### Scene 2\r\n\r\n"
        "| Shot | Framing | Movement | Description | Audio | Duration |\r\n"
        "|---|---|---|---|---|---|\r\n"
        "| Shot 3 | Aerial | Crane up | City | Wind | 4.5s |\r\n"
        "\r\n## Summary\r\nA short ad.\r\n"
    )
    analysis = nr.parse_analysis(markdown)
    first, second, third = analysis.shots
    assert (first.number, first.framing, first.movement, first.audio) == (
        1,
        "Wide, *eye level*",
        "Static",
        "BGM",
    )
    assert first.description == "A ` | ` sign | glowing"  # a pipe in inline code is kept
    assert first.duration_seconds == 3.0 and first.cells["Notes"] == "x"
    assert (second.number, second.description, second.duration) == (2, "Hands", "")
    assert (third.number, third.duration_seconds) == (3, 4.5)
    assert analysis.summary.startswith("# Video breakdown") and "A short ad." in analysis.summary
    assert "### Scene 2" in analysis.summary and analysis.markdown == markdown
    assert analysis.total_seconds == 7.5


@pytest.mark.parametrize("locale", nr.LOCALES)
def test_titles_of_every_locale_map_to_every_field(locale: str) -> None:
    titles = list(column_titles(locale)[:6])
    assert sorted(map_titles(titles).values()) == sorted(FIELDS)
    assert map_titles(titles)[0] == "number"


@pytest.mark.parametrize(
    ("title", "field"),
    [
        ("Shot", "number"),
        ("镜头", "number"),
        ("鏡頭", "number"),
        ("ショット", "number"),
        ("샷", "number"),
        ("Plano", "number"),
        ("Plan", "number"),
        ("Einstellung", "number"),
        ("Cena", "number"),
        ("Кадр", "number"),
        ("لقطة", "number"),
        ("Shot Size", "framing"),
        ("Camera Angle", "framing"),
        ("Camera", "movement"),
        ("Scene Description", "description"),
        ("Sound / Music", "audio"),
        ("Timecode", "time"),
        ("**Duration**", "duration"),
    ],
)
def test_title_synonyms(title: str, field: str) -> None:
    assert map_titles([title]) == {0: field}


def test_a_table_of_unknown_columns_is_not_a_shot_list_and_stays_text() -> None:
    analysis = nr.parse_analysis("| Foo | Bar |\n|---|---|\n| 1 | 2 |")
    assert analysis.shots == [] and analysis.summary == analysis.markdown
    (shot,) = grammar("| Foo | Bar |\n|---|---|\n| 1 | 2 |").shots
    assert shot.number is None and shot.description == "" and shot.cells == {"Foo": "1", "Bar": "2"}
    assert shot.prompt() == "Foo: 1. Bar: 2."


# -- durations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("3s", 3.0),
        ("3 sec", 3.0),
        ("3 secs.", 3.0),
        ("3.5 秒", 3.5),
        ("00:03", 3.0),
        ("1:02:03", 3723.0),
        ("0:03–0:06", 3.0),
        ("0:03 - 0:06", 3.0),
        ("00:01 to 00:04.5", 3.5),
        ("3 секунды", 3.0),
        ("5 с", 5.0),
        ("٣ ثوان", 3.0),
        ("٣٫٥ ث", 3.5),
        ("۴ ثانية", 4.0),
        ("３秒", 3.0),
        ("3,5 s", 3.5),
        ("2 min 30 s", 150.0),
        ("1分", 60.0),
        ("~3s", 3.0),
        ("约3秒", 3.0),
        ("(4s)", 4.0),
        ("**2.5s**", 2.5),
        ("4", 4.0),
        ("3 segundos", 3.0),
        ("4 Sekunden", 4.0),
        ("2초", 2.0),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "about a while", "n/a", "0:06–0:03", "three seconds", "—"])
def test_unknown_durations_are_none_and_keep_the_text(text: str) -> None:
    assert parse_duration(text) is None
    table = f"| Shot | Camera | Action | Duration |\n|---|---|---|---|\n| 1 | Pan | Run | {text} |"
    shot = nr.parse_analysis(table).shots[0]
    assert shot.cells["Duration"] == text.strip() and shot.duration_seconds is None
    # an empty-looking cell ("—", "n/a") leaves the field empty; other text is kept in it
    assert shot.duration == ("" if text in ("", "n/a", "—") else text.strip())


# -- conversion -----------------------------------------------------------------------


def test_shots_and_analysis_convert_to_json() -> None:
    analysis = nr.parse_analysis("| Shot | Duration | Camera |\n|-|-|-|\n| 1 | 3s | Pan |\n\nFin.")
    data = json.loads(analysis.to_json())
    assert data["summary"] == "Fin." and data["markdown"] == analysis.markdown
    assert data["shots"][0] == analysis.shots[0].to_dict()
    assert (
        data["shots"][0]["duration_seconds"] == 3.0
        and data["shots"][0]["prompt"] == "Camera: Pan. Duration: 3 seconds."
    )


# -- live -------------------------------------------------------------------------------


async def test_shots_arrive_while_the_answer_still_streams(
    client: nr.AsyncClient, emulator: Emulator
) -> None:
    emulator.chunk_bytes = 50
    emulator.chars_per_second = 8000
    async with client.analyze(YT, locale="zh") as stream:
        live: list[nr.Shot] = []
        async for shot in stream.shots():
            if not live:
                assert not emulator.requests[0].completed  # the first shot, mid-answer
            live.append(shot)
    whole = nr.parse_analysis(emulator.requests[0].answer)
    assert live == whole.shots and len(live) >= 2


async def test_stream_analysis_and_result_analysis(
    client: nr.AsyncClient, emulator: Emulator
) -> None:
    analysis = await client.analyze(YT, locale="es").analysis()
    assert analysis.shots[0].cells["Plano"] == "1" and "Resumen general" in analysis.summary
    async with client.analyze_many([YT], locale="es") as results:
        (result,) = [r async for r in results]
    assert result.analysis.shots == analysis.shots


def test_feeding_in_any_pieces_gives_the_same_shots() -> None:
    markdown = Emulator().answer_for(b"seed", "ja")
    expected = nr.parse_analysis(markdown).shots
    for size in (1, 2, 7, 64):
        parser = ShotParser()
        found = []
        for start in range(0, len(markdown), size):
            found += parser.feed(markdown[start : start + size])
        found += parser.close()
        assert found == expected


# -- properties -------------------------------------------------------------------------

markdownish = st.lists(
    st.one_of(
        st.text(alphabet="|-: \\`ab*#>\t\r", max_size=24),
        st.sampled_from(["|---|---|", "| a | b |", "---|---", "", "| 1 | 2 | 3 |", "| x \\| y |"]),
        st.text(max_size=30),
    ),
    max_size=12,
).map("\n".join)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(markdownish)
def test_the_parser_never_raises(text: str) -> None:
    analysis = nr.parse_analysis(text)
    for shot in analysis.shots:
        shot.to_dict()
        shot.prompt()


junk_cell = st.text(alphabet=st.characters(blacklist_characters="\n\r"), max_size=10)
junk_line = st.lists(junk_cell, min_size=1, max_size=4).map("|".join)


@st.composite
def tables(draw: st.DrawFn) -> str:
    """A header of arbitrary text, the delimiter that fits it, arbitrary rows, text around."""
    header = "| " + draw(junk_line) + " |"
    width = len(split_row(header))
    assume(width > 0)
    delimiter = (
        "|"
        + "|".join(draw(st.sampled_from(["---", ":--", "--:", ":-:"])) for _ in range(width))
        + "|"
    )
    rows = draw(st.lists(junk_line, min_size=1, max_size=5))
    before, after = draw(markdownish), draw(markdownish)
    return "\n".join([before, "", header, delimiter, *rows, "", after])


@settings(
    max_examples=300, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
@given(tables())
def test_render_then_parse_gives_the_same_shots(text: str) -> None:
    shots = grammar(text).shots
    assume(shots and len({tuple(s.cells) for s in shots}) == 1)
    # the language is read from the text before the table too, which the rendering leaves out
    assert [replace(s, locale="") for s in grammar(render_table(shots)).shots] == [
        replace(s, locale="") for s in shots
    ]


@given(
    st.lists(
        st.lists(
            st.text(alphabet=st.characters(blacklist_characters="\n\r"), max_size=12),
            min_size=3,
            max_size=3,
        ),
        min_size=1,
        max_size=5,
    )
)
def test_any_cell_text_survives_a_round_trip(rows: list[list[str]]) -> None:
    shots = [
        nr.Shot(cells={"Shot": a.strip(), "Camera": b.strip(), "Audio": c.strip()})
        for a, b, c in rows
    ]
    parsed = grammar(render_table(shots)).shots
    assert [s.cells for s in parsed] == [s.cells for s in shots]
