"""The layouts the emulator writes its answers in, as models do: one per ``answer_style``.

``table`` is one neat shot table; ``ranges`` gives time codes instead of durations;
``cards`` is a card per shot (the vendor's web page shows its example that way);
``headings`` is a heading per shot with bullet fields; ``fenced`` wraps a table in a
```` ```markdown ```` fence after a sentence, with a totals line; ``mixed`` picks one
of these per video from its hash, so a folder of videos shows them all.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._words import Words, column_titles

ANSWER_STYLES = ("table", "ranges", "cards", "headings", "fenced", "mixed")
_CHOSEN = ANSWER_STYLES[:-1]


@dataclass(frozen=True)
class PlannedShot:
    number: int
    framing: str
    movement: str
    description: str
    audio: str
    start: float
    length: float


def style_for(style: str, seed: bytes) -> str:
    """The layout one video's answer is written in."""
    if style not in ANSWER_STYLES:
        raise ValueError(f"answer_style must be one of {', '.join(ANSWER_STYLES)}, not {style!r}")
    return _CHOSEN[seed[-1] % len(_CHOSEN)] if style == "mixed" else style


def _clock(seconds: float) -> str:
    minutes, rest = divmod(round(seconds, 1), 60)
    return f"{int(minutes):02d}:{rest:04.1f}"


def _span(shot: PlannedShot) -> str:
    return f"{_clock(shot.start)}–{_clock(shot.start + shot.length)}"


def _table(words: Words, locale: str, shots: list[PlannedShot], ranges: bool) -> list[str]:
    titles = list(column_titles(locale)[:6])
    if ranges:
        titles[5] = words.titles["time"]
    lines = ["| " + " | ".join(titles) + " |", "|" + "|".join(["---"] * 6) + "|"]
    for shot in shots:
        when = _span(shot) if ranges else words.seconds(shot.length)
        lines.append(
            f"| {shot.number} | {shot.framing} | {shot.movement} | {shot.description} "
            f"| {shot.audio} | {when} |"
        )
    return lines


def _cards(words: Words, shots: list[PlannedShot]) -> list[str]:
    titles = words.titles
    lines: list[str] = []
    for shot in shots:
        lines += [
            f"**{titles['shot']} {shot.number}**  "
            f"{titles['duration']}: {words.seconds(shot.length)}",
            f"📷 {shot.framing} · {titles['movement']}: {shot.movement}",
            shot.description[:1].upper() + shot.description[1:],
            f"🎵 {titles['audio']}",
            f"BGM: {shot.audio}",
            "",
        ]
    return lines[:-1]


def _headings(words: Words, shots: list[PlannedShot]) -> list[str]:
    titles = words.titles
    lines: list[str] = []
    for shot in shots:
        lines += [
            f"### {titles['shot']} {shot.number} | {_span(shot)} | {words.seconds(shot.length)}",
            f"- **{titles['framing']}:** {shot.framing}",
            f"- **{titles['movement']}:** {shot.movement}",
            f"- **{titles['description']}:** {shot.description}",
            f"- **{titles['audio']}:** {shot.audio}",
            "",
        ]
    return lines[:-1]


def render(style: str, words: Words, locale: str, shots: list[PlannedShot], summary: str) -> str:
    """The answer's body (below the emulator's mark): the shots, then the summary."""
    total = round(sum(shot.length for shot in shots), 1)
    heading = f"## {words.titles['summary']}"
    if style == "cards":
        body = _cards(words, shots)
    elif style == "headings":
        body = _headings(words, shots)
    elif style == "fenced":
        totals = words.totals.format(shots=len(shots), seconds=f"{total:g}")
        return "\n".join(
            [words.preamble, "", "```markdown", *_table(words, locale, shots, False), "",
             f"**{totals}**", "", heading, "", summary, "```", ""]
        )  # fmt: skip
    else:
        body = _table(words, locale, shots, ranges=style == "ranges")
    return "\n".join([*body, "", heading, "", summary, ""])
