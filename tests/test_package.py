"""The public surface, and the README's promises about how to run things."""

from __future__ import annotations

import re
import subprocess
import sys
import types
from pathlib import Path

import nanoreverse as nr

ROOT = Path(__file__).parent.parent
CONTRACT = {
    "AsyncClient",
    "RateLimit",
    "Timeout",
    "AnalysisStream",
    "YouTube",
    "VideoURL",
    "VideoFile",
    "VideoBytes",
    "NanoReverseError",
    "APIError",
    "AuthenticationError",
    "RateLimitError",
    "InsufficientCreditsError",
    "InvalidRequestError",
    "InvalidInputError",
    "InvalidYouTubeURLError",
    "InvalidVideoURLError",
    "InvalidFormatError",
    "FileTooLargeError",
    "VideoDownloadError",
    "VideoProcessingError",
    "ServiceUnavailableError",
    "InternalServerError",
    "APIConnectionError",
    "APITimeoutError",
    "StreamInterruptedError",
    "parse_analysis",
    "Analysis",
    "Shot",
    "Result",
}


def test_all_is_complete_and_sorted() -> None:
    public = {
        name
        for name in dir(nr)
        if not name.startswith("_") and not isinstance(getattr(nr, name), types.ModuleType)
    }
    assert "types" not in dir(nr)  # no module the package itself imports leaks out
    assert public | {"__version__"} == set(nr.__all__)
    assert set(nr.__all__) >= CONTRACT
    assert (ROOT / "nanoreverse" / "py.typed").exists()


def test_every_public_function_and_class_has_a_docstring() -> None:
    missing = [
        name
        for name in nr.__all__
        if callable(getattr(nr, name)) and not (getattr(nr, name).__doc__ or "").strip()
    ]
    assert missing == []


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", text)[:2]


def test_readme_opens_with_the_two_commands_and_ci_runs_the_second() -> None:
    demo, tests = readme_commands()
    assert "--emulator" in demo and "nanoreverse analyze" in demo
    assert "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in ci


def test_the_readme_demo_runs_without_a_key(tmp_path: Path) -> None:
    demo, _ = readme_commands()
    arguments = demo.split(".venv/bin/nanoreverse ", 1)[1].split()
    arguments[arguments.index("--out") + 1] = str(tmp_path / "out")
    env = {"PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "nanoreverse", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    made = sorted(p.name for p in (tmp_path / "out").rglob("*.md"))
    assert made == ["bars_5s.md", "cells_6s.md", "life_9s.md", "youtube-W-15-UmGP5s.md"]
    index = tmp_path / "out" / "report" / "index.html"
    assert index.is_file() and f"Storyboard: {index}" in " ".join(result.stderr.split())


def test_the_command_line_loads_no_server_until_asked() -> None:
    code = (
        "import sys, nanoreverse.cli; "
        "print(sorted(m for m in sys.modules if m == 'aiohttp.web' or 'testing._' in m))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    probe = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


HEAVY = {"aiohttp", "rich", "redis", "jinja2", "av", "aiosqlite", "tenacity"}


def test_import_and_version_load_no_network_stack() -> None:
    assert not HEAVY & loaded_after("import nanoreverse")
    run = "from nanoreverse.cli import main\ntry:\n    main({})\nexcept SystemExit:\n    pass"
    assert not HEAVY & loaded_after(run.format(["--version"]))
    assert not HEAVY & loaded_after(run.format(["analyze", "--help"]))


def test_a_first_client_loads_what_a_call_needs_and_no_more() -> None:
    loaded = loaded_after("import nanoreverse as nr\nnr.AsyncClient('k')")
    assert "aiohttp" in loaded
    assert not {"rich", "redis", "jinja2", "av", "aiohttp.web"} & loaded
    assert not any(name.startswith("nanoreverse.testing") for name in loaded)


# Made by the library for the user (never constructed by hand), or errors whose fields
# are documented once, on their base class.
_MADE_FOR_YOU = {"AnalysisStream", "BatchResults", "Results", "Stream"}


def test_every_parameter_of_the_public_api_is_documented() -> None:
    """The API reference is generated from the docstrings: each parameter is described."""
    import inspect

    import nanoreverse.testing as testing

    missing = {}
    for module, names in ((nr, nr.__all__), (testing, testing.__all__)):
        for name in names:
            obj = getattr(module, name)
            if name in _MADE_FOR_YOU or not callable(obj):
                continue
            bases = (nr.NanoReverseError, nr.APIError, nr.APIConnectionError)
            if isinstance(obj, type) and issubclass(obj, nr.NanoReverseError) and obj not in bases:
                continue
            try:
                parameters = inspect.signature(obj).parameters
            except (TypeError, ValueError):
                continue
            doc = inspect.getdoc(obj) or ""
            unnamed = [p for p in parameters if p not in ("self", "args", "kwargs", "options")]
            lacking = [p for p in unnamed if p not in doc]
            if lacking:
                missing[name] = lacking
    assert missing == {}
