"""Whether a table is a shot list, from its titles and its first filled row.

A table is a shot list when its columns are shot-like (number, framing, movement,
description, audio, duration, time code) and its first filled row agrees: a time column
must hold times, a number column numbers. Glossaries, character and location lists,
tips, scorecards and templates are not, whatever their titles share with shot lists.
"""

from __future__ import annotations

import re

from .durations import find_duration, time_span
from .words import FRAMINGS, plain

_NOT_SHOTS = re.compile(
    r"character|role|name|location|place|term|abbreviation|meaning|tip|issue|problem|score|"
    r"criteri|prop|costume|角色|人物|地点|地點|术语|術語|缩写|縮寫|含义|含義|评分|評分|问题|問題|建议|建議|"
    r"道具|服装|キャラクター|場所|用語|略語|캐릭터|인물|장소|용어|personaje|lugar|término|personnage|"
    r"lieu|terme|figur|begriff|personagem|termo|персонаж|место|термин|شخصية|مكان|مصطلح",
    re.I,
)
_DESCRIPTIVE = ("framing", "movement", "description", "audio")


def judge(titles: list[str], mapping: dict[int, str], cells: list[str]) -> tuple[bool, bool]:
    """(is a shot list, is a full one: its rows say all a detail block could add).
    ``mapping`` is corrected in place (a 镜头 column holding 特写 is the framing)."""
    for col, name in list(mapping.items()):  # a 镜头 column holding 特写 is the framing
        text = plain(cells[col]) if col < len(cells) else ""
        numberless = name == "number" and not re.search(r"\d", text)
        if numberless and FRAMINGS.match(text) and "framing" not in mapping.values():
            mapping[col] = "framing"
    for col, text in enumerate(cells):
        short = len(plain(text)) <= 30 and FRAMINGS.match(plain(text))
        if short and col not in mapping and "framing" not in mapping.values():
            mapping[col] = "framing"
    names = set(mapping.values())
    if "both" in names:
        names |= {"framing", "movement"}
    timed = {
        n for col, n in mapping.items()
        if n in ("duration", "time") and col < len(cells)
        and (time_span(cells[col]) is not None or find_duration(cells[col]))
    }  # fmt: skip
    if "number" in names:
        col = next(c for c, n in mapping.items() if n == "number")
        if col >= len(cells) or not re.search(r"\d", cells[col]):
            names.discard("number")
    described = len(names & set(_DESCRIPTIVE))
    strong = bool(timed) or "number" in names
    vetoed = not timed and any(_NOT_SHOTS.search(plain(t)) for t in titles)
    shotlike = not vetoed and bool(
        (timed and described >= 1) or ("number" in names and described >= 2) or described >= 3
    )
    return shotlike, described >= 3 and strong
