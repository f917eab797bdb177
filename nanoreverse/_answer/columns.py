"""Which column of a shot table is which field, from its title, in the 11 locales.

Models title columns freely ("Shot", "#", "镜头", "Kamerabewegung"), so each title is
matched against synonyms rather than fixed names.
"""

from __future__ import annotations

import re
import unicodedata

FIELDS = ("number", "framing", "movement", "description", "audio", "duration")

# Title synonyms in the 11 locales, tried in this order: a title takes the first
# field it matches that the table has not given to another column yet. Framing
# comes before number because "shot size" / "shot type" are framings, not numbers.
_SYNONYMS: dict[str, str] = {
    "framing": (
        "framing|angle|shot size|shot type|composition|景别|"
        "景別|角度|构图|構圖|フレーミング|アングル|構図|画角|프레이밍|앵글|구도|encuadre|"
        "ángulo|angulo|cadrage|plan type|bildausschnitt|"
        "einstellungsgröße|winkel|perspektive|"
        "enquadramento|крупность|ракурс|план съемки|"
        "التأطير|الزاوية|زاوية"
    ),
    "movement": (
        "movement|camera|motion|运镜|運鏡|镜头运动|鏡頭運動|摄像机|攝影機|"
        "カメラワーク|カメラ|카메라|movimiento|mouvement|"
        "kamerabewegung|kamera|movimento|câmera|движение|"
        "камера|حركة"
    ),
    "description": (
        "description|visual|content|scene|画面|畫面|描述|内容|內容|"
        "映像|説明|描写|묘사|설명|장면|descripción|descripcion|"
        "descrição|descricao|bildbeschreibung|beschreibung|"
        "inhalt|описание|изображение|الوصف|وصف"
    ),
    "audio": (
        "audio|sound|music|bgm|narration|音频|音訊|声音|聲音|音效|音声|"
        "音楽|サウンド|오디오|사운드|음향|sonido|son|ton|áudio|som|аудио|"
        "звук|الصوت|صوت"
    ),
    "duration": (
        "duration|length|time|timecode|timestamp|时长|時長|时间|"
        "時間|尺|길이|시간|duración|duracion|durée|duree|dauer|"
        "länge|duração|duracao|длительность|"
        "продолжительность|время|المدة|مدة"
    ),
    "number": (
        "shot|#|no|nr|num|镜头|鏡頭|镜号|鏡號|序号|ショット|カット|番号|샷|컷|"
        "번호|plano|plan|toma|einstellung|cena|tomada|кадр|№|"
        "план|لقطة|اللقطة|رقم"
    ),
}


def _normalise_title(title: str) -> str:
    title = unicodedata.normalize("NFKC", title).casefold()
    return re.sub(r"[*_`~]", "", title).strip(" :.")


def map_titles(titles: list[str]) -> dict[int, str]:
    """Column index → field name, for the titles that match a field."""
    mapping: dict[int, str] = {}
    taken: set[str] = set()
    normalised = [_normalise_title(t) for t in titles]
    for name, synonyms in _SYNONYMS.items():
        words = synonyms.split("|")
        for index, title in enumerate(normalised):
            if index in mapping or name in taken or not title:
                continue
            if any(_title_has(title, word) for word in words):
                mapping[index] = name
                taken.add(name)
    return mapping


def _title_has(title: str, word: str) -> bool:
    if word.isascii() and word.isalnum():
        return re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", title) is not None
    return word in title
