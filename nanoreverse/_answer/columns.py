"""Which column (or ``Label:``) of a shot list is which field, from its words, in 11 locales.

Models title columns and label lines freely ("Shot", "#", "镜号", "Kamerabewegung",
"**Camera:**"), so each title is matched against synonyms rather than fixed names.
The same words serve table titles, ``Label: value`` lines and labels inside cells.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

FIELDS = ("number", "framing", "movement", "description", "audio", "duration")

# "time" is not a Shot field: a column of time codes gives start/end (and the duration
# when no column holds one). "both" is a column that holds framing and movement.
_SYNONYMS: dict[str, str] = {
    "framing": (
        "framing|angle|shot size|shot type|size|composition|lens|"
        "景别|景別|角度|构图|構圖|机位|機位|フレーミング|アングル|構図|画角|サイズ|"
        "프레이밍|앵글|구도|샷사이즈|샷 사이즈|encuadre|ángulo|"
        "angulo|tipo de plano|valeur de plan|cadrage|plan type|bildausschnitt|einstellungsgröße|"
        "winkel|perspektive|enquadramento|крупность|ракурс|план съемки|التأطير|الزاوية|زاوية|"
        "نوع اللقطة"
    ),
    "movement": (
        "movement|camera|caméra|motion|运镜|運鏡|镜头运动|鏡頭運動|摄像机|攝影機|カメラワーク|カメラ|"
        "카메라|무빙|movimiento|mouvement|kamerabewegung|kamera|movimento|câmera|camara|cámara|"
        "движение|камера|حركة|الكاميرا"
    ),
    "description": (
        "description|visual|content|action|scene|summary|what we see|"
        "画面|畫面|描述|内容|內容|说明|說明|映像|説明|描写|"
        "内容|묘사|설명|장면|내용|descripción|descripcion|acción|descrição|descricao|ação|"
        "bildbeschreibung|beschreibung|inhalt|handlung|описание|изображение|действие|"
        "الوصف|وصف|المشهد|المحتوى"
    ),
    "audio": (
        "audio|sound|music|bgm|sfx|vo|voice|voiceover|voice-over|narration|dialogue|dialog|"
        "音频|音訊|声音|聲音|音效|音乐|音樂|台词|台詞|对白|對白|口播|旁白|配乐|配樂|音声|音楽|"
        "サウンド|セリフ|ナレーション|効果音|오디오|사운드|음향|음악|대사|내레이션|효과음|sonido|"
        "música|diálogo|son|musique|dialogue|ton|musik|dialog|áudio|som|música|аудио|звук|"
        "музыка|диалог|الصوت|صوت|موسيقى|الحوار"
    ),
    "duration": (
        "duration|length|dur|secs|seconds|时长|時長|秒数|秒數|尺|長さ|길이|초|duración|duracion|"
        "durée|duree|dauer|länge|duração|duracao|длительность|продолжительность|хронометраж|"
        "сек|المدة|مدة"
    ),
    "time": (
        "time|timecode|timestamp|time code|tc|start|时间|時間|时间码|時間碼|时间段|時間段|"
        "时间轴|開始|开始|タイム|タイムコード|시간|타임코드|tiempo|inicio|temps|début|zeit|"
        "beginn|tempo|início|время|таймкод|начало|الوقت|التوقيت"
    ),
    "number": (
        "shot|#|no|nr|num|number|id|=镜|=鏡|镜头|鏡頭|镜号|鏡號|镜次|序号|序號|分镜|分鏡|ショット|カット|"
        "番号|샷|컷|번호|plano|plan|toma|einstellung|cena|tomada|кадр|№|план|لقطة|اللقطة|رقم|"
        "scene|场景|場景|场次|シーン|씬|escena|scène|szene|сцена|مشهد"
    ),
}

# Tried in this order: "Shot size"/"Camera angle" are framings, "scene description" is
# a description and "time" comes last so "duration (s)" wins its column.
_ORDER = ("framing", "movement", "duration", "description", "audio", "time", "number")
_JOINERS = re.compile(r"\s*(?:/|&|\+|与|與|和|及|・|·|\band\b|\by\b|\bet\b|\bund\b|\bи\b|و)\s*")


_BR = re.compile(r"<br\s*/?>")
_MARKS = re.compile(r"[*_`~\[\]【】「」]")


def normalise_title(title: str) -> str:
    title = unicodedata.normalize("NFKC", title).casefold()
    return _MARKS.sub("", _BR.sub(" ", title)).strip(" :.-")


@lru_cache(maxsize=64)
def _words(name: str) -> tuple[tuple[str, bool], ...]:
    out = []
    for word in _SYNONYMS[name].split("|"):
        exact = word.startswith("=")
        out.append((unicodedata.normalize("NFKC", word.lstrip("=")).casefold(), exact))
    return tuple(out)


@lru_cache(maxsize=64)
def _matcher(name: str) -> tuple[re.Pattern[str], frozenset[str], frozenset[str]]:
    """One regex for a field's words (ASCII words as whole words, others anywhere), the
    words that must be the whole title, and the one-character words (whole, or first)."""
    free, ascii_words, exact, single = [], [], set(), set()
    for word, whole in _words(name):
        if whole:
            exact.add(word)
        elif word == "#":
            free.append(r"^#")
        elif word.isascii():
            ascii_words.append(re.escape(word))
        elif len(word) == 1:
            single.add(word)
        else:
            free.append(re.escape(word))
    # The ASCII words share one look-behind: written once per word, the engine tried it
    # for every word at every position (measured: 3 to 4 times slower per title).
    if ascii_words:
        free.append(rf"(?<![a-z])(?:{'|'.join(ascii_words)})(?![a-z])")
    return re.compile("|".join(free)), frozenset(exact), frozenset(single)


def _has(title: str, name: str) -> bool:
    pattern, exact, single = _matcher(name)
    if title in exact or pattern.search(title):
        return True
    first = title[:1]
    return first in single and not title[1:2].isalpha()


@lru_cache(maxsize=4096)
def fields_of(title: str) -> tuple[str, ...]:
    """Every field a title's words name, in the order they are tried."""
    text = normalise_title(title)
    if not text:
        return ()
    return tuple(name for name in _ORDER if _has(text, name))


@lru_cache(maxsize=1)
def _labels() -> dict[str, str]:
    labels: dict[str, str] = {}
    for name in _ORDER:
        for word, _ in _words(name):
            labels.setdefault(word, name)
    return labels


def exact_field(text: str) -> str | None:
    """The field a text names when it is nothing but a label ("Audio", "🎵 音声"), else None."""
    return _labels().get(normalise_title(text))


@lru_cache(maxsize=4096)
def field_of(label: str) -> str | None:
    """The one field a label names ("**Camera:**" → movement), or None."""
    found = fields_of(label)
    if not found:
        return None
    if is_both(label):
        return "both"
    return found[0]


@lru_cache(maxsize=4096)
def is_both(title: str) -> bool:
    """True for a title naming framing and movement as two parts ("机位与运镜", "Shot / Camera")."""
    parts = [p for p in _JOINERS.split(normalise_title(re.sub(r"\(.*?\)", "", title))) if p]
    named = {fields_of(part)[0] for part in parts if fields_of(part)}
    return {"framing", "movement"} <= named


def map_titles(titles: list[str]) -> dict[int, str]:
    """Column index → field name, for the titles that match a field.

    A title takes the first field it names that no other column holds yet.
    >>> map_titles(["镜号", "景别", "运镜", "时长"])
    {1: 'framing', 2: 'movement', 3: 'duration', 0: 'number'}
    """
    mapping: dict[int, str] = {}
    found = [fields_of(t) for t in titles]
    for index, title in enumerate(titles):
        if is_both(title):
            mapping[index] = "both"
    for name in _ORDER:
        for index, names in enumerate(found):
            if index in mapping or name not in names or name in mapping.values():
                continue
            if name == "number" and len(names) > 1 and names[0] != "number":
                continue  # "Shot size" is a framing even when framing is taken
            mapping[index] = name
    return mapping
