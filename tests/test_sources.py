from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

import nanoreverse as nr
from nanoreverse._sources.urls import youtube_video_id

from .helpers import CLIPS, make_mp4

ID = "W-15-UmGP5s"

GOOD_YOUTUBE = [
    f"https://www.youtube.com/watch?v={ID}",
    f"http://www.youtube.com/watch?v={ID}",
    f"https://youtube.com/watch?v={ID}",
    f"https://m.youtube.com/watch?v={ID}",
    f"https://music.youtube.com/watch?v={ID}",
    f"https://www.youtube.com/watch?feature=share&v={ID}",
    f"https://www.youtube.com/watch?v={ID}&t=42s",
    f"https://www.youtube.com/watch?v={ID}&list=PL1234567890",
    f"https://youtu.be/{ID}",
    f"https://youtu.be/{ID}?si=abcDEF",
    f"https://youtu.be/{ID}?t=10",
    f"https://www.youtube.com/shorts/{ID}",
    f"https://www.youtube.com/embed/{ID}",
    f"https://www.youtube.com/live/{ID}",
    f"https://www.youtube-nocookie.com/embed/{ID}",
    f"  https://youtu.be/{ID}  ",
]

BAD_YOUTUBE = [
    "https://www.youtube.com/@somechannel",
    "https://www.youtube.com/channel/UC1234567890abcdefghij",
    "https://www.youtube.com/playlist?list=PL1234567890",
    f"https://youtube.com.evil.example/watch?v={ID}",
    f"https://evil.example/youtube.com/watch?v={ID}",
    f"https://notyoutube.com/watch?v={ID}",
    "https://www.youtube.com/watch?v=short",
    f"https://www.youtube.com/watch?v={ID}x",
    f"ftp://www.youtube.com/watch?v={ID}",
    f"https://user:pw@www.youtube.com/watch?v={ID}",
    "https://youtu.be/",
    "",
]


@pytest.mark.parametrize("url", GOOD_YOUTUBE)
async def test_youtube_links_accepted_and_canonicalised(url: str) -> None:
    assert youtube_video_id(url) == ID
    prepared = await nr.YouTube(url).prepare()
    assert prepared.fields == {
        "videoSource": "youtube",
        "videoUrl": f"https://www.youtube.com/watch?v={ID}",
    }


@pytest.mark.parametrize("url", BAD_YOUTUBE)
async def test_non_video_youtube_links_refused(url: str) -> None:
    with pytest.raises(nr.InvalidYouTubeURLError) as info:
        await nr.YouTube(url).prepare()
    assert info.value.preflight and info.value.status is None
    assert "youtube.com/watch?v=" in info.value.message  # says what to fix


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/a.mp4",
        "file:///etc/passwd",
        "https:///a.mp4",
        "https://u:p@example.com/a.mp4",
        "example.com/a.mp4",
        "https://example.com:99999/a.mp4",
    ],
)
async def test_bad_video_urls_refused(url: str) -> None:
    with pytest.raises(nr.InvalidVideoURLError) as info:
        await nr.VideoURL(url).prepare()
    assert info.value.preflight


async def test_video_url_accepted() -> None:
    prepared = await nr.VideoURL("https://cdn.example.com/ads/spring.mp4?sig=1").prepare()
    assert prepared.fields == {
        "videoSource": "url",
        "videoUrl": "https://cdn.example.com/ads/spring.mp4?sig=1",
    }


@pytest.mark.parametrize("clip", CLIPS, ids=lambda p: p.name)
async def test_real_mp4_files_pass(clip: Path) -> None:
    prepared = await nr.VideoFile(clip).prepare()
    assert prepared.upload is not None and prepared.upload.size == clip.stat().st_size
    assert prepared.fields["videoFileName"] == clip.name


async def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(nr.InvalidInputError, match="no file at"):
        await nr.VideoFile(tmp_path / "nope.mp4").prepare()


async def test_folder_is_not_a_video(tmp_path: Path) -> None:
    with pytest.raises(nr.InvalidInputError, match="is a folder"):
        await nr.VideoFile(tmp_path).prepare()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads everything")
async def test_unreadable_file(tmp_path: Path) -> None:  # pragma: no cover - CI runs as root
    path = make_mp4(tmp_path / "locked.mp4", 1000)
    path.chmod(0)
    with pytest.raises(nr.InvalidInputError, match="cannot read"):
        await nr.VideoFile(path).prepare()


async def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    # Works as root too: a dangling symlink cannot be read by anyone.
    link = tmp_path / "dangling.mp4"
    link.symlink_to(tmp_path / "gone.mp4")
    with pytest.raises(nr.InvalidInputError):
        await nr.VideoFile(link).prepare()


async def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.touch()
    with pytest.raises(nr.InvalidFormatError, match="empty"):
        await nr.VideoFile(path).prepare()


async def test_not_an_mp4(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_bytes(b"\x1aE\xdf\xa3" + b"webm data" * 10)
    with pytest.raises(nr.InvalidFormatError, match="ftyp"):
        await nr.VideoFile(path).prepare()


async def test_exactly_30_mib_is_allowed_one_byte_more_is_not(tmp_path: Path) -> None:
    limit = 30 * 1024 * 1024
    ok = await nr.VideoFile(make_mp4(tmp_path / "max.mp4", limit)).prepare()
    assert ok.upload is not None and ok.upload.size == limit
    with pytest.raises(nr.FileTooLargeError) as info:
        await nr.VideoFile(make_mp4(tmp_path / "over.mp4", limit + 1)).prepare()
    assert info.value.preflight and "31457280" in info.value.message


async def test_video_bytes_checked_the_same_way() -> None:
    data = CLIPS[0].read_bytes()
    prepared = await nr.VideoBytes(data, filename="a.mp4").prepare()
    assert prepared.upload is not None and prepared.upload.data == data
    with pytest.raises(nr.InvalidFormatError):
        await nr.VideoBytes(b"", filename="a.mp4").prepare()
    with pytest.raises(nr.InvalidFormatError):
        await nr.VideoBytes(b"GIF89a" + bytes(100)).prepare()
    with pytest.raises(nr.FileTooLargeError):
        await nr.VideoBytes(b"\0\0\0\x20ftyp" + bytes(30 * 1024 * 1024)).prepare()


def test_video_bytes_repr_hides_the_data() -> None:
    assert "ftyp" not in repr(nr.VideoBytes(b"\0\0\0\x20ftypisom"))


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (f"https://youtu.be/{ID}", nr.YouTube),
        ("https://www.youtube.com/@channel", nr.YouTube),  # then refused in preflight
        ("https://cdn.example.com/a.mp4", nr.VideoURL),
        ("HTTP://cdn.example.com/a.mp4", nr.VideoURL),
        ("clips/a.mp4", nr.VideoFile),
        (Path("clips/a.mp4"), nr.VideoFile),
    ],
)
def test_strings_and_paths_are_coerced(value: object, kind: type) -> None:
    assert type(nr.as_source(value)) is kind  # type: ignore[arg-type]


def test_other_types_are_refused() -> None:
    with pytest.raises(TypeError, match="expected a video source"):
        nr.as_source(42)  # type: ignore[arg-type]


async def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    with pytest.raises(nr.InvalidInputError, match="FIFO") as caught:
        await asyncio.wait_for(nr.VideoFile(fifo).prepare(), 5)
    assert caught.value.preflight


async def test_a_device_is_refused(tmp_path: Path) -> None:
    with pytest.raises(nr.InvalidInputError, match="a device"):
        await asyncio.wait_for(nr.VideoFile("/dev/zero").prepare(), 5)


@pytest.mark.parametrize("movflags", ["+faststart", ""], ids=["moov-first", "moov-last"])
async def test_an_mp4_with_no_video_track_is_refused_before_sending(
    tmp_path: Path, movflags: str
) -> None:
    # #28: an audio-only MP4 passed preflight, was paid for, then failed in the report.
    pytest.importorskip("av", reason="needs the report extra: pip install -e '.[dev]'")
    from nanoreverse.testing._videos import make_audio, make_video

    sound = make_audio(tmp_path / "voice.mp4", seconds=2, movflags=movflags)
    for source in (nr.VideoFile(sound), nr.VideoBytes(sound.read_bytes(), filename="v.mp4")):
        with pytest.raises(nr.InvalidFormatError, match="no video track") as caught:
            await source.prepare()
        assert caught.value.preflight
    picture = make_video(tmp_path / "clip.mp4", seconds=2, movflags=movflags)
    assert (await nr.VideoFile(picture).prepare()).upload is not None
    fragmented = make_video(tmp_path / "obs.mp4", seconds=2, movflags="frag_keyframe+empty_moov")
    assert (await nr.VideoFile(fragmented).prepare()).upload is not None
