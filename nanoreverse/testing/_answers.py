"""The emulator's answers: a deterministic Markdown shot table in the requested locale.

Same video → same answer. The video's length comes from its MP4 ``mvhd`` box
(or, for links and files without one, from its hash: 6 to 45 s); it is cut
into ``shot_count(duration)`` shots whose lengths, framings and movements are
picked by the video's sha256. Tests can predict the shot count and the total
duration from :func:`plan_shots`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .._answer.shots import MADE_UP

# shot, framing, movement, description, audio, duration; then the summary heading.
_TITLES: dict[str, tuple[str, ...]] = {
    "en": (
        "Shot",
        "Framing / Angle",
        "Camera Movement",
        "Visual Description",
        "Audio",
        "Duration",
        "Overall Summary",
    ),
    "zh": ("镜头", "景别/角度", "运镜", "画面描述", "音频", "时长", "整体总结"),
    "zh-TW": ("鏡頭", "景別/角度", "運鏡", "畫面描述", "音訊", "時長", "整體總結"),
    "ja": (
        "ショット",
        "フレーミング/アングル",
        "カメラワーク",
        "映像の説明",
        "音声",
        "尺",
        "全体のまとめ",
    ),
    "ko": ("샷", "프레이밍/앵글", "카메라 무브먼트", "시각적 묘사", "오디오", "길이", "전체 요약"),
    "es": (
        "Plano",
        "Encuadre / Ángulo",
        "Movimiento de cámara",
        "Descripción visual",
        "Audio",
        "Duración",
        "Resumen general",
    ),
    "fr": (
        "Plan",
        "Cadrage / Angle",
        "Mouvement de caméra",
        "Description visuelle",
        "Audio",
        "Durée",
        "Résumé global",
    ),
    "de": (
        "Einstellung",
        "Bildausschnitt / Winkel",
        "Kamerabewegung",
        "Bildbeschreibung",
        "Audio",
        "Dauer",
        "Gesamtzusammenfassung",
    ),
    "pt": (
        "Cena",
        "Enquadramento / Ângulo",
        "Movimento de câmera",
        "Descrição visual",
        "Áudio",
        "Duração",
        "Resumo geral",
    ),
    "ru": (
        "Кадр",
        "Крупность / Ракурс",
        "Движение камеры",
        "Описание изображения",
        "Аудио",
        "Длительность",
        "Общее резюме",
    ),
    "ar": (
        "لقطة",
        "التأطير / الزاوية",
        "حركة الكاميرا",
        "الوصف البصري",
        "الصوت",
        "المدة",
        "الملخص العام",
    ),
}

_SECONDS_UNIT = {"zh": "秒", "zh-TW": "秒", "ja": "秒", "ko": "초", "ru": " с", "ar": " ث"}


@dataclass(frozen=True)
class _Words:
    framings: tuple[str, ...]
    movements: tuple[str, ...]
    subjects: tuple[str, ...]
    audio: tuple[str, ...]
    summary: str  # {shots} and {seconds}


_ENGLISH = _Words(
    framings=(
        "Wide shot, eye level",
        "Medium shot, low angle",
        "Close-up, eye level",
        "Extreme close-up, high angle",
        "Aerial wide shot",
        "Over-the-shoulder medium shot",
    ),
    movements=(
        "Static",
        "Slow dolly in",
        "Pan left to right",
        "Handheld follow",
        "Crane up",
        "Orbit around the subject",
    ),
    subjects=(
        "a red car crossing a rain-soaked street at dusk",
        "a woman laughing in a sunlit kitchen",
        "waves breaking on black volcanic rocks",
        "a neon sign flickering above a night market",
        "a runner climbing stairs in a city at dawn",
        "hands pouring coffee into a white cup",
    ),
    audio=(
        "Upbeat electronic BGM",
        "Soft piano; distant traffic",
        "Voice-over narration",
        "Crowd ambience and footsteps",
        "Whoosh transition effect",
        "Silence, then a bass hit",
    ),
    summary="The video runs about {seconds} seconds in {shots} shots, moving from establishing "
    "views to close details with a consistent warm grade and a steady rhythm of cuts.",
)

_WORDS: dict[str, _Words] = {
    "en": _ENGLISH,
    "zh": _Words(
        framings=("远景，平视", "中景，仰拍", "特写，平视", "大特写，俯拍", "航拍全景", "过肩中景"),
        movements=("固定镜头", "缓慢推镜", "从左向右摇镜", "手持跟拍", "升降镜头上升", "环绕主体"),
        subjects=(
            "黄昏时一辆红色汽车驶过被雨水浸湿的街道",
            "阳光厨房里大笑的女人",
            "海浪拍打黑色火山岩",
            "夜市上方闪烁的霓虹灯",
            "黎明城市中奔跑上楼梯的人",
            "双手把咖啡倒进白色杯子",
        ),
        audio=(
            "轻快的电子背景音乐",
            "柔和钢琴声，远处车流声",
            "旁白解说",
            "人群环境声与脚步声",
            "嗖的转场音效",
            "静默后一声低音重击",
        ),
        summary="视频约 {seconds} 秒，共 {shots} 个镜头，从全景逐步过渡到细节特写，"
        "色调温暖统一，剪辑节奏稳定。",
    ),
    "ja": _Words(
        framings=(
            "ロングショット、アイレベル",
            "ミディアムショット、ローアングル",
            "クローズアップ、アイレベル",
            "超クローズアップ、ハイアングル",
            "空撮ワイド",
            "肩越しのミディアムショット",
        ),
        movements=(
            "固定",
            "ゆっくりドリーイン",
            "左から右へパン",
            "手持ちで追従",
            "クレーンアップ",
            "被写体の周りを回り込む",
        ),
        subjects=(
            "夕暮れの濡れた通りを横切る赤い車",
            "日差しの入るキッチンで笑う女性",
            "黒い溶岩に砕ける波",
            "夜市の上で点滅するネオンサイン",
            "夜明けの街で階段を駆け上がるランナー",
            "白いカップにコーヒーを注ぐ手",
        ),
        audio=(
            "軽快なエレクトロBGM",
            "柔らかなピアノと遠くの車の音",
            "ナレーション",
            "人混みの環境音と足音",
            "シュッというトランジション効果音",
            "静寂のあとに低音のヒット",
        ),
        summary="動画は約{seconds}秒、{shots}ショットで構成され、引きの画から細部のクローズアップへと移り、"
        "暖かい色調と安定したカットのリズムが続きます。",
    ),
    "es": _Words(
        framings=(
            "Plano general, a la altura de los ojos",
            "Plano medio, contrapicado",
            "Primer plano, a la altura de los ojos",
            "Plano detalle, picado",
            "Plano general aéreo",
            "Plano medio sobre el hombro",
        ),
        movements=(
            "Fijo",
            "Travelling lento hacia delante",
            "Paneo de izquierda a derecha",
            "Cámara en mano siguiendo",
            "Grúa ascendente",
            "Órbita alrededor del sujeto",
        ),
        subjects=(
            "un coche rojo cruza una calle mojada al atardecer",
            "una mujer ríe en una cocina soleada",
            "olas rompen sobre rocas volcánicas negras",
            "un letrero de neón parpadea sobre un mercado nocturno",
            "un corredor sube escaleras en la ciudad al amanecer",
            "unas manos sirven café en una taza blanca",
        ),
        audio=(
            "Música electrónica animada",
            "Piano suave; tráfico lejano",
            "Narración en off",
            "Ambiente de multitud y pasos",
            "Efecto de transición",
            "Silencio y luego un golpe de bajo",
        ),
        summary="El vídeo dura unos {seconds} segundos en {shots} planos, pasa de planos "
        "generales a detalles con una gradación cálida y un ritmo de montaje constante.",
    ),
}
_WORDS["zh-TW"] = _WORDS["zh"]


def seed_of(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def duration_from_seed(seed: bytes) -> float:
    """A stand-in length for videos whose real length is unknown (links): 6–45 s."""
    return 6.0 + int.from_bytes(seed[:2], "big") % 40


def shot_count(duration: float) -> int:
    """One shot per 2.5 s of video, at least 1 and at most 12."""
    return max(1, min(12, round(duration / 2.5)))


def plan_shots(seed: bytes, duration: float) -> list[float]:
    """Per-shot lengths (0.1 s steps) that add up to ``duration`` rounded to 0.1 s."""
    count = shot_count(duration)
    tenths = max(round(duration * 10), count)
    weights = [2 + seed[i % len(seed)] % 5 for i in range(count)]
    parts = [max(1, tenths * w // sum(weights)) for w in weights]
    parts[-1] += tenths - sum(parts)
    if parts[-1] < 1:  # rounding took too much from the last shot: even them out
        parts = [tenths // count] * count
        parts[-1] += tenths - sum(parts)
    return [p / 10 for p in parts]


def _seconds(value: float, locale: str) -> str:
    return f"{value:.1f}{_SECONDS_UNIT.get(locale, 's')}"


def render_answer(seed: bytes, duration: float, locale: str) -> str:
    """The whole Markdown answer for a video."""
    titles = _TITLES.get(locale, _TITLES["en"])
    words = _WORDS.get(locale, _ENGLISH)
    lengths = plan_shots(seed, duration)
    lines = [
        "| " + " | ".join(titles[:6]) + " |",
        "|" + "|".join(["---"] * 6) + "|",
    ]
    for index, length in enumerate(lengths):
        pick = seed[(index * 4) % len(seed) : (index * 4) % len(seed) + 4].ljust(4, b"\0")
        lines.append(
            f"| {index + 1} | {words.framings[pick[0] % 6]} | {words.movements[pick[1] % 6]} "
            f"| {words.subjects[pick[2] % 6]} | {words.audio[pick[3] % 6]} "
            f"| {_seconds(length, locale)} |"
        )
    total = round(sum(lengths), 1)
    summary = words.summary.format(seconds=f"{total:g}", shots=len(lengths))
    mark = f"> {MADE_UP} on this machine: not an analysis of this video.\n\n"
    return mark + "\n".join(lines) + f"\n\n## {titles[6]}\n\n{summary}\n"


def seeded_answer(
    seed_source: bytes, locale: str, duration: float | None = None
) -> tuple[float, str]:
    """The answer for a link's canonical URL (or a video's bytes) and the length it describes:
    ``duration`` when known, else a stand-in drawn from the seed."""
    seed = seed_of(seed_source)
    duration = duration or duration_from_seed(seed)
    return duration, render_answer(seed, duration, locale)
