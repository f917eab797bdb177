"""Words that tell what a piece of an answer is: shot openers, framings, camera moves,
placeholders, summary headings, and the answer's language for the prompts we write."""

from __future__ import annotations

import collections
import re
from functools import lru_cache

# A shot's opener: a word for shot or scene and its number ("Shot 3", "镜头1", "#3", "S01",
# "1-01", "SB-001", "Plano 2"), at the start of a heading, a bold line or a plain line.
_SHOT_WORDS = (
    r"shot|scene|cut|clip|take|beat|镜头|鏡頭|镜|鏡|分镜|分鏡|场景|場景|ショット|カット|シーン|샷|컷|"
    r"씬|장면|plano|toma|escena|plan|scène|einstellung|szene|cena|tomada|кадр|сцена|план|"
    r"لقطة|اللقطة|مشهد"
)
OPENER = re.compile(
    rf"^(?:(?:{_SHOT_WORDS})\s*(?:n[o°º]\.?|#|№)?\s*(?P<a>\d+(?:-\d+)?)"
    rf"|#\s?(?P<b>\d+)|(?P<c>(?:[A-Z]{{1,2}}-?)\d{{1,3}}|\d{{1,2}}-\d{{2,3}})"
    rf"|(?P<d>\d{{1,3}})(?=\s*[|｜.:：)]\s*\S))"
    rf"(?![\w.,:：-]*\d)(?=$|[\s|｜:：.,，、·•—–)(\[]|\*)",
    re.IGNORECASE,
)
_ANY_DIGIT = re.compile(r"\d")  # any script's digits, as OPENER's \d
_NUMBERS = re.compile(r"\d+")
_SCENE_SHOT = re.compile(r"\s*\d{1,2}-\d{2,3}\s*")
_WORDS = re.compile(r"[^\W\d_]+")
_DIGITS = str.maketrans(
    "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹０１２３４５６７８９", "012345678901234567890123456789"
)

FRAMINGS = re.compile(
    r"^(?:e?x?(?:els|ews|ls|ws|fs|mls|mws|ms|mcu|cu|bcu|ecu|xcu|ots|pov|ew|lws)\b|"
    r"(?:extreme |medium |full |long |wide |close|establishing|over[- ]the[- ]shoulder|aerial|"
    r"two[- ]shot|insert|point of view|bird|low angle|high angle|eye[- ]level|dutch)|"
    r"(?:大?特写|特寫|近景|中近景|中景|中全景|全景|远景|遠景|大远景|大遠景|俯拍|仰拍|平视|航拍|"
    r"クローズアップ|アップ|ロング|ミディアム|バスト|ルーズ|引き|寄り|俯瞰|"
    r"클로즈업|풀샷|미디엄|와이드|롱샷|바스트샷|익스트림|"
    r"plano (?:general|medio|detalle|americano|entero|aéreo)|primer(?:ísimo)? plano|gran plano|"
    r"gros plan|très gros plan|plan (?:large|moyen|d'ensemble|américain|rapproché)|"
    r"totale|halbtotale|halbnah|nahaufnahme|großaufnahme|detailaufnahme|amerikanische|"
    r"plano (?:geral|médio|detalhe|fechado|americano)|close-up|"
    r"общий|средний|крупный|сверхкрупный|дальний|"
    r"لقطة (?:واسعة|قريبة|متوسطة|عامة|مقربة)))",
    re.IGNORECASE,
)
MOVES = re.compile(
    r"(?:\b(?:static|fixed|locked|pan|panning|tilt|dolly|push|pull|zoom|track|tracking|handheld|"
    r"hand-held|crane|orbit|gimbal|steadicam|follow|arc|truck|pedestal|whip|drone)\b|"
    r"固定|推|拉|摇|搖|移|跟|升|降|环绕|環繞|手持|甩|"
    r"パン|ドリー|ズーム|フィックス|手持ち|クレーン|トラック|"
    r"패닝|줌|고정|핸드헬드|트래킹|달리|틸트|"
    r"paneo|travelling|fijo|fija|cámara en mano|panoramique|fixe|schwenk|fahrt|statisch|"
    r"handkamera|panorâmica|fixa|панорама|наезд|отъезд|статичн|статика|ручная|ثابت|تحريك|زووم|تتبع)",
    re.IGNORECASE,
)

_PLACEHOLDER = re.compile(
    r"^(?:|[-–—_.…·/]+|n/?a|none|nil|null|tbd|tba|todo|xxx+|x+|\?+|无|無|暂无|待定|なし|없음|"
    r"ninguno|aucun|keine|nenhum|нет|لا يوجد|\[[^\]]*\]|<[^>]*>|\{[^}]*\}|（[^）]*无[^）]*）)$",
    re.IGNORECASE,
)
_TOTALS = re.compile(
    r"^(?:total|totals|sum|合计|合計|总计|總計|共计|合計時間|合計尺|합계|총|итого|всего|gesamt|"
    r"summe|المجموع|الإجمالي)\b",
    re.IGNORECASE,
)
SUMMARY = re.compile(
    r"^(?:overall|summary|conclusion|总结|總結|整体|整體|概要|まとめ|全体|총평|요약|전체|"
    r"resumen|conclusión|résumé|synthèse|conclusion|zusammenfassung|fazit|gesamt|resumo|"
    r"conclusão|резюме|итог|общее|вывод|الملخص|ملخص|الخلاصة|خلاصة)",
    re.IGNORECASE,
)


_WIDE = str.maketrans("｜：（）　", "|:() ")


_HEADING_MARK = re.compile(r"^ {0,3}#{1,6}\s+")
_BREAK = re.compile(r"<br\s*/?>", re.I)
_EMPHASIS = re.compile(r"[*_`]+")
_LIST_MARK = re.compile(r"^\s*(?:[-+•]|\d+[.)])\s+")
# Emoji and pictographs: dingbats, arrows, misc symbols, the emoji planes, joiners, selectors
_SYMBOLS = re.compile(
    "[\u2190-\u21ff\u2300-\u23ff\u2460-\u24ff\u25a0-\u27bf\u2900-\u297f\u2b00-\u2bff"
    "\u3030\u303d\ufe0f\u200d\U0001f000-\U0001faff]"
)


@lru_cache(maxsize=16384)
def plain(text: str) -> str:
    """Text without Markdown emphasis, emoji and list marks (its own characters kept).

    Cached: the live parser re-reads the lines it has each time a shot may have ended.
    """
    # Each substitution only where its characters occur: most lines need one or none.
    if "<" in text:
        text = _BREAK.sub(" ", text)
    if "*" in text or "_" in text or "`" in text:
        text = _EMPHASIS.sub("", text)
    if not text.isascii():
        text = _SYMBOLS.sub("", text)
    text = text.strip()
    if text[:1] in "-+•" or text[:1].isdecimal():  # a list mark can only start so
        text = _LIST_MARK.sub("", text).strip()
    return text


@lru_cache(maxsize=16384)
def opener_id(text: str) -> tuple[str, int | None, str, str] | None:
    """(id, number, the rest, what stands between) when a line starts a shot
    ("## Shot 3 | 00:08–00:12"), else None."""
    if not _ANY_DIGIT.search(text):
        return None  # every opener has a number: most lines end here, cheaply
    stripped = plain(_HEADING_MARK.sub("", text)).translate(_DIGITS).translate(_WIDE)
    found = OPENER.match(stripped)
    if not found:
        return None
    ident = next(g for g in found.group("a", "b", "c", "d") if g)
    after = stripped[found.end() :]
    rest = after.strip(" |｜:：.,，、·•—–-")
    gap = after[: len(after) - len(after.lstrip(" |｜:：.,，、·•—–-"))]
    return ident.upper(), shot_number(ident), rest, gap


def shot_number(text: str) -> int | None:
    """The number in a shot id ("3", "#3", "Shot ３", "S01", "1-01" → 1, "٣"), or None."""
    text = text.translate(_DIGITS)
    digits = _NUMBERS.findall(text)
    if not digits:
        return None
    if _SCENE_SHOT.fullmatch(text):
        return int(digits[-1])  # "1-01": scene 1, shot 1
    return int(digits[0])


def is_placeholder(text: str) -> bool:
    return _PLACEHOLDER.match(plain(text).strip(" 　")) is not None


def is_totals(text: str) -> bool:
    return _TOTALS.match(plain(text)) is not None


# Runs, not single characters: counting a run's length is one match, not one per letter.
_SCRIPTS = {
    "kana": re.compile("[\u3040-\u30ff]+"),
    "han": re.compile("[\u4e00-\u9fff]+"),
    "hangul": re.compile("[\uac00-\ud7af]+"),
    "cyrillic": re.compile("[\u0400-\u04ff]+"),
    "arabic": re.compile("[\u0600-\u06ff]+"),
    "latin": re.compile("[A-Za-z]+"),
}


def detect_locale(text: str) -> str:
    """The language most of ``text`` is written in, as one of the API's locales."""
    counts = {script: sum(map(len, found.findall(text))) for script, found in _SCRIPTS.items()}
    script = max(counts, key=lambda k: counts[k])
    if counts[script] == 0:
        return "en"
    if counts["kana"] >= 2:
        return "ja"
    if script == "han":
        return "zh-TW" if len(set(text) & _TRADITIONAL) > len(set(text) & _SIMPLIFIED) else "zh"
    return {"hangul": "ko", "cyrillic": "ru", "arabic": "ar"}.get(script) or _latin(text)


_TRADITIONAL = set("鏡頭號時長運畫聲總結視頻與數內說這來個們後點樂對處開場間較實現體")
_SIMPLIFIED = set("镜头号时长运画声总结视频与数内说这来个们后点乐对处开场间较实现体")
_LATIN_WORDS = {
    "es": " el la los las del con una por en y plano cámara descripción duración sonido fijo ",
    "fr": " le la les des du une avec et plan caméra durée mouvement son sur dans fixe ",
    "de": " der die das und mit ein eine im auf einstellung kamera dauer ton bild ",
    "pt": " o a os as do da com uma um e em no na ao cena câmera duração som fixa ",
}
_LATIN_LETTERS = {"es": "ñ¿¡", "fr": "èêàùœâî", "de": "ßäöü", "pt": "ãõ"}


_POOLS = {loc: frozenset(pool.split()) for loc, pool in _LATIN_WORDS.items()}
_ENGLISH = frozenset({"the", "and", "of", "with", "shot", "camera", "a", "in"})


def _latin(text: str) -> str:
    words = collections.Counter(_WORDS.findall(text.casefold()))
    scores = {loc: sum(n for w, n in words.items() if w in pool) for loc, pool in _POOLS.items()}
    for loc, letters in _LATIN_LETTERS.items():
        scores[loc] += 2 * sum(text.count(letter) for letter in letters)
    english = sum(n for w, n in words.items() if w in _ENGLISH)
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] > english and scores[best] >= 2 else "en"
