"""The command line as a new user meets it (#17): real subprocesses against the emulator."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import nanoreverse as nr
from nanoreverse.testing import EmulatorProcess

from .helpers import CLIPS, SECRET, YT
from .test_cli import analyze, outputs, run


def test_each_locale_has_its_own_file_and_none_overwrites_another(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert analyze(emulator_process, str(CLIPS[0]), "--out", str(out)).returncode == 0
    english = (out / f"{CLIPS[0].stem}.md").read_text()
    assert (
        analyze(emulator_process, str(CLIPS[0]), "--out", str(out), "--locale", "ja").returncode
        == 0
    )
    assert (out / f"{CLIPS[0].stem}.md").read_text() == english  # the paid English is kept
    assert "ショット" in (out / f"{CLIPS[0].stem}.ja.md").read_text()
    again = analyze(emulator_process, str(CLIPS[0]), "--out", str(out))
    assert "1 from the store" in again.stderr and emulator_process.stats()["requests"] == 2


def test_names_changed_alike_never_share_an_output_across_runs(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    first, second = tmp_path / "a:b.mp4", tmp_path / "a*b.mp4"
    shutil.copy(CLIPS[0], first)
    shutil.copy(CLIPS[1], second)
    out = tmp_path / "out"
    assert analyze(emulator_process, str(first), "--out", str(out)).returncode == 0
    kept = {p: p.read_text() for p in out.glob("*.md")}
    dry = analyze(emulator_process, str(second), "--out", str(out), "--dry-run")
    assert analyze(emulator_process, str(second), "--out", str(out)).returncode == 0
    assert all(path.read_text() == text for path, text in kept.items())  # not overwritten
    assert len(list(out.glob("*.md"))) == 2
    new = next(p for p in out.glob("*.md") if p not in kept)
    assert str(new) in dry.stdout  # the dry run named the file the real run wrote


def test_a_wrong_key_stops_the_batch_once_and_exits_non_zero(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    for index in range(12):
        (videos / f"v{index}.mp4").write_bytes(CLIPS[index % 3].read_bytes() + bytes([index]))
    result = analyze(
        emulator_process,
        str(videos),
        "--out",
        str(tmp_path / "out"),
        "--concurrency",
        "2",
        key="sk-wrong",
    )
    assert result.returncode == 1
    assert emulator_process.stats()["requests"] <= 3  # the calls already started, then none
    assert result.stderr.count("Stopped starting calls") == 1 and "LOGIN_REQUIRED" in result.stderr


def test_an_empty_balance_stops_the_batch(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    for index in range(10):
        (videos / f"v{index}.mp4").write_bytes(CLIPS[index % 3].read_bytes() + bytes([index]))
    args = ("--api-key", SECRET, "--rate-limit", "none", "--credits", "2")
    with EmulatorProcess(*args) as emulator_process:
        result = analyze(
            emulator_process, str(videos), "--out", str(tmp_path / "out"), "--concurrency", "1"
        )
        requests = emulator_process.stats()["requests"]
    assert result.returncode == 1 and requests == 3  # 2 paid, 1 refused, then no more
    assert "INSUFFICIENT_CREDITS" in result.stderr and "7 not started" in result.stderr


def test_outputs_missing_on_disk_are_written_from_the_store_free(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert (
        analyze(emulator_process, str(CLIPS[0]), "--out", str(out), "--format", "json").returncode
        == 0
    )
    both = analyze(emulator_process, str(CLIPS[0]), "--out", str(out), "--format", "both")
    assert both.returncode == 0 and (out / f"{CLIPS[0].stem}.md").is_file()
    (out / f"{CLIPS[0].stem}.md").unlink()
    assert analyze(emulator_process, str(CLIPS[0]), "--out", str(out)).returncode == 0
    assert (out / f"{CLIPS[0].stem}.md").is_file() and emulator_process.stats()["requests"] == 1


def test_export_reads_the_store_to_stdout_with_a_locale_column(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    analyze(emulator_process, str(CLIPS[0]), "--out", str(out), "--format", "json")
    analyze(
        emulator_process, str(CLIPS[0]), "--out", str(out), "--format", "json", "--locale", "ja"
    )
    result = run("export", str(out), "--csv", "-")
    assert result.returncode == 0 and not (Path.cwd() / "-").exists()
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {row["locale"] for row in rows} == {"en", "ja"}
    per_locale = [
        sum(1 for r in rows if r["locale"] == loc and r["shot"] == "1") for loc in ("en", "ja")
    ]
    assert per_locale == [1, 1]  # each video once per locale


def _in_a_terminal(command: list[str], env: dict[str, str]) -> str:
    """Run ``command`` with stderr on a pseudo-terminal (so the live bar is drawn); returns
    what it wrote there, terminal escapes removed."""
    import pty
    import re
    import select

    master, slave = pty.openpty()
    process = subprocess.Popen(
        command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave
    )
    os.close(slave)
    chunks = []
    try:
        while select.select([master], [], [], 60)[0]:
            try:
                data = os.read(master, 65536)
            except OSError:  # the other end closed: the program has ended
                break
            if not data:
                break
            chunks.append(data)
    finally:
        process.wait(30)
        os.close(master)
    text = b"".join(chunks).decode("utf-8", "replace")
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\r", "", text)


def test_progress_lines_name_every_failed_file_whole(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    videos = tmp_path / "videos with a long folder name to show that nothing is cut"
    videos.mkdir()
    for index in range(12):
        (videos / f"not-a-video-{index}.mp4").write_text("text")
    shutil.copy(CLIPS[0], videos / "real.mp4")
    command = [sys.executable, "-m", "nanoreverse", "analyze", str(videos), "--out"]
    command += [str(tmp_path / "out"), "--base-url", emulator_process.base_url]
    shown = _in_a_terminal(command, {**os.environ, "NANOPHOTO_API_KEY": SECRET})
    for index in range(12):
        assert f"FAIL  {videos / f'not-a-video-{index}.mp4'}" in shown, shown[-3000:]


def test_dry_run_checks_every_source(emulator_process: EmulatorProcess, tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").touch()
    (tmp_path / "notes.mp4").write_text("not a video")
    with (tmp_path / "big.mp4").open("wb") as handle:
        handle.write(CLIPS[0].read_bytes()[:64])
        handle.truncate(31 * 2**20)
    sources = [str(tmp_path / n) for n in ("empty.mp4", "notes.mp4", "big.mp4", "missing.mp4")]
    result = analyze(
        emulator_process,
        *sources,
        str(CLIPS[0]),
        "https://www.youtube.com/@channel",
        "--out",
        str(tmp_path / "out"),
        "--dry-run",
    )
    assert result.returncode == 0
    assert result.stdout.count("refused") >= 6
    assert "1 to pay (at most 1 credit)" in result.stdout and "5 refused" in result.stdout
    assert emulator_process.stats()["requests"] == 0


def test_a_pipe_closed_early_is_a_quiet_exit(emulator_process: EmulatorProcess) -> None:
    command = [
        sys.executable,
        "-m",
        "nanoreverse",
        "analyze",
        YT,
        "--base-url",
        emulator_process.base_url,
    ]
    env = {**os.environ, "NANOPHOTO_API_KEY": SECRET}
    shell = subprocess.run(
        f"{subprocess.list2cmdline(command)} | head -c 10",
        shell=True,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in shell.stderr and "BrokenPipe" not in shell.stderr


def test_hints_tell_the_truth(emulator_process: EmulatorProcess, tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    refused = analyze(emulator_process, str(bad), str(CLIPS[0]), "--out", str(tmp_path / "out"))
    assert "run again to retry" not in refused.stderr and "refused before sending" in refused.stderr
    single = analyze(emulator_process, str(bad))
    assert single.returncode == 2  # one source refused before sending, as the README says
    budget = analyze(
        emulator_process,
        str(CLIPS[0]),
        str(CLIPS[1]),
        "--out",
        str(tmp_path / "o2"),
        "--max-credits",
        "1",
        "--concurrency",
        "1",
    )
    assert "Budget reached" in budget.stderr


def test_version_verbose_and_the_base_url_from_the_environment(
    emulator_process: EmulatorProcess,
) -> None:
    assert run("--version").stdout.startswith("nanoreverse ")
    env = {
        **os.environ,
        "NANOPHOTO_API_KEY": SECRET,
        "NANOPHOTO_BASE_URL": emulator_process.base_url,
    }
    result = subprocess.run(
        [sys.executable, "-m", "nanoreverse", "analyze", YT, "-v"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "| 1 |" in result.stdout
    help_text = run("analyze", "--help").stdout
    assert "examples:" in help_text and "--shared-rate" in help_text


def test_lists_links_and_folders_as_a_user_writes_them(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    folder = tmp_path / "videos"
    folder.mkdir()
    shutil.copy(CLIPS[0], folder / "real.mp4")
    (folder / "._real.mp4").write_bytes(b"\0\5\26\7 AppleDouble")
    (folder / "clip.mov").write_bytes(b"mov")
    stdin = f"# my list\n{folder}\nyoutube.com/watch?v=W-15-UmGP5s\n"
    result = analyze(emulator_process, "-", "--out", str(tmp_path / "out"), stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert "1 .mov file skipped" in result.stderr
    assert sorted(outputs(tmp_path / "out")) == ["real.md", "youtube-W-15-UmGP5s.md"]
    ftp = analyze(emulator_process, "ftp://example.com/a.mp4")
    assert "http" in ftp.stderr and ftp.returncode == 2


def test_outputs_have_the_users_permissions_and_the_demo_says_it_is_an_emulator(
    tmp_path: Path,
) -> None:
    result = run("analyze", str(CLIPS[0]), "--emulator", "--out", str(tmp_path / "out"), key=None)
    assert "built-in emulator" in result.stderr and "no credit is spent" in result.stderr
    mode = stat.S_IMODE((tmp_path / "out" / f"{CLIPS[0].stem}.md").stat().st_mode)
    assert mode == 0o666 & ~_umask()
    assert "nanoreverse-out/" in (Path(__file__).parent.parent / ".gitignore").read_text()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_the_emulator_prints_no_traceback_when_a_client_goes_away() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "nanoreverse", "emulator", "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        address = json.loads(process.stdout.readline())["base_url"].rsplit(":", 1)
        with socket.create_connection((address[0][len("http://") :], int(address[1]))) as sock:
            head = (
                "POST /api/sora-2/reverse-prompt HTTP/1.1\r\nHost: x\r\n"
                "Authorization: Bearer nr-emulator-key\r\nContent-Length: 5000000\r\n\r\n"
            )
            sock.sendall(head.encode() + b'{"videoSource":"file","videoFile":"' + b"A" * 10**5)
            time.sleep(0.3)
    finally:
        time.sleep(0.3)
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert "Traceback" not in stderr, stderr


def test_failures_are_counted_under_one_kind_of_name() -> None:
    import nanoreverse as nr
    from nanoreverse.cli._tally import label

    assert label(nr.InternalServerError("x", status=500)) == "INTERNAL_ERROR"
    assert label(nr.InternalServerError("html", code=None, status=502)) == "HTTP 502"
    assert label(nr.StreamInterruptedError("cut")) == "StreamInterruptedError"


def test_an_out_that_cannot_be_written_is_refused_before_any_call(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "out"
    not_a_folder.write_text("a file")
    result = analyze(emulator_process, str(CLIPS[0]), "--out", str(not_a_folder))
    assert result.returncode == 2 and "cannot write to --out" in result.stderr
    assert emulator_process.stats()["requests"] == 0 and "Traceback" not in result.stderr


def test_a_write_error_after_paying_keeps_the_answer_and_the_rerun_writes_it_free(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    videos = tmp_path / "videos"
    (videos / "sub").mkdir(parents=True)
    shutil.copy(CLIPS[0], videos / "top.mp4")
    shutil.copy(CLIPS[1], videos / "sub" / "inner.mp4")
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").write_text("a file where a folder must go")  # writing sub/inner.md fails
    first = analyze(emulator_process, str(videos), "--out", str(out))
    assert first.returncode == 1 and "Traceback" not in first.stderr
    assert "could not be written" in first.stderr and "kept in the store" in first.stderr
    assert (out / "top.md").is_file()  # the rest was written
    (out / "sub").unlink()
    second = analyze(emulator_process, str(videos), "--out", str(out))
    assert second.returncode == 0 and (out / "sub" / "inner.md").is_file()
    assert emulator_process.stats()["requests"] == 2  # nothing paid twice


def test_a_dry_run_counts_contents_and_writes_nothing(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    for index in range(5):  # five names, one content: a run pays once
        shutil.copy(CLIPS[0], videos / f"copy{index}.mp4")
    out = tmp_path / "out"
    dry = analyze(emulator_process, str(videos), "--out", str(out), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "1 to pay (at most 1 credit)" in dry.stdout
    assert "4 the same as another (free)" in dry.stdout
    assert not out.exists()  # no folder, no analyses.sqlite
    run = analyze(emulator_process, str(videos), "--out", str(out))
    assert run.returncode == 0 and emulator_process.stats()["requests"] == 1


def test_the_emulator_command_describes_itself_and_logs_each_request(tmp_path: Path) -> None:
    shown = run("emulator", "--help")
    assert shown.returncode == 0
    text = " ".join(shown.stdout.split())
    assert "8765" in text and "nr-emulator-key" in text and "NANOPHOTO_BASE_URL" in text
    command = [sys.executable, "-m", "nanoreverse", "emulator", "--port", "0", "--json"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as server:
        assert server.stdout is not None and server.stderr is not None
        address = json.loads(server.stdout.readline())
        link = "https://youtu.be/W-15-UmGP5s"
        env = {**os.environ, "NANOPHOTO_API_KEY": address["api_key"]}
        call = [sys.executable, "-m", "nanoreverse", "analyze", link]
        call += ["--base-url", address["base_url"]]
        done = subprocess.run(call, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        server.terminate()
        logged = server.stderr.read()
    assert "#1 youtube https://www.youtube.com/watch?v=W-15-UmGP5s en -> 200 answered" in logged


def test_the_words_on_screen(emulator_process: EmulatorProcess, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = analyze(emulator_process, str(CLIPS[0]), "--out", str(out))
    assert "1 analysed, 0 failed; 1 credit spent" in first.stderr
    again = analyze(emulator_process, str(CLIPS[0]), "--out", str(out), "-q")
    assert again.returncode == 0 and "0 credits spent" in again.stderr
    shown = analyze(emulator_process, str(CLIPS[0]), "--out", str(out))
    assert f"done  {CLIPS[0]}  (stored: no call, free)" in shown.stderr
    assert "0 attempts" not in shown.stderr
    shot = nr.Shot(description="A car", duration="1s")
    assert shot.prompt() == "A car. Duration: 1 second."


def test_made_up_answers_are_marked_and_never_mixed_with_real_ones(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    # #28: the demo's answers and a real key's landed in one folder, unmarked; export then
    # counted 8 videos for 4. Every output says an answer is made up, and a folder holds
    # one key's answers, made up or real, unless --mix.
    out = tmp_path / "out"
    made_up = run("analyze", str(CLIPS[0]), "--emulator", "--out", str(out), "--format", "both")
    assert made_up.returncode == 0, made_up.stderr
    assert "Made up by the nanoreverse emulator" in (out / f"{CLIPS[0].stem}.md").read_text()
    assert json.loads((out / f"{CLIPS[0].stem}.json").read_text())["made_up"] is True
    exported = run("export", str(out), "--csv", "-")
    assert {row["made_up"] for row in csv.DictReader(io.StringIO(exported.stdout))} == {"True"}
    # Another key (here: the test emulator's) into the same folder is refused, nothing sent.
    other = analyze(emulator_process, str(CLIPS[1]), "--out", str(out))
    assert other.returncode == 2 and "--mix" in other.stderr, other.stderr
    assert emulator_process.stats()["requests"] == 0
    mixed = analyze(emulator_process, str(CLIPS[1]), "--out", str(out), "--mix")
    assert mixed.returncode == 0 and emulator_process.stats()["requests"] == 1
    again = analyze(emulator_process, str(CLIPS[1]), "--out", str(out))
    assert again.returncode == 0  # a folder marked mixed stays open to both


def test_csv_cells_cannot_run_as_formulas(tmp_path: Path) -> None:
    from nanoreverse.cli._export import _cell

    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and _cell("@SUM(A1)") == "'@SUM(A1)"
    assert _cell("+1") == "'+1" and _cell("-2") == "'-2" and _cell("Wide shot") == "Wide shot"
    assert _cell(3.5) == 3.5


def test_files_that_can_never_succeed_give_their_own_exit_code_for_cron(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(CLIPS[0], videos / "good.mp4")
    (videos / "empty.mp4").write_bytes(b"")
    (videos / "notes.mp4").write_text("not a video")
    for _ in range(2):  # the same refusals on every run: 3, not 1
        done = analyze(emulator_process, str(videos), "--out", str(tmp_path / "out"))
        assert done.returncode == 3, done.stderr
        assert "a re-run will refuse them again" in done.stderr
    assert emulator_process.stats()["requests"] == 1
    (videos / "cut.mp4").write_bytes((videos / "good.mp4").read_bytes()[:-1000])  # truncated
    done = analyze(emulator_process, str(videos), "--out", str(tmp_path / "out"))
    assert done.returncode == 1, done.stderr  # the server failed on it: not only refusals
