"""The Python matrix, the package as users get it, and the fast path forced off.

``nox`` runs the suite on every Python the project supports, each in its own venv made
from the interpreters pyenv has (CI's image ships 3.10 to 3.13). The README's test command
stays the way a user runs the tests on their own Python; CI runs it on 3.11 and asks nox
for the others. Under ``CI=true`` a missing interpreter fails the run instead of skipping.

    nox -s tests-3.12        # one Python
    nox -s fallback wheel    # the plain thread reader; the built wheel in a fresh venv
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
ROOT = Path(__file__).parent

nox.options.sessions = ["tests", "fallback", "wheel"]
nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = True
nox.options.reuse_existing_virtualenvs = True


def _let_pyenv_answer_for_every_version() -> None:
    """pyenv's shims answer ``python3.12`` only for the versions it is told to serve; nox
    looks interpreters up by that name. Serve every 3.x the image ships (a user who set
    PYENV_VERSION keeps theirs)."""
    if "PYENV_VERSION" in os.environ or shutil.which("pyenv") is None:
        return
    listed = subprocess.run(
        ["pyenv", "versions", "--bare"], capture_output=True, text=True, check=False
    ).stdout.split()
    wanted = [v for v in listed if any(v.startswith(p + ".") for p in PYTHONS)]
    if wanted:
        os.environ["PYENV_VERSION"] = ":".join(wanted)


_let_pyenv_answer_for_every_version()


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The suite on one Python; the once-per-CI runs (benchmark smoke runs, the newest
    aiohttp in a child) are left to the README's command."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "pytest", "-m", "not once", *session.posargs)


@nox.session(python="3.11")
def fallback(session: nox.Session) -> None:
    """The upload, preflight and store tests with the Linux fast path (preadv with
    RWF_NOWAIT) forced off: the portable reader macOS and Windows use."""
    session.install("-e", ".[dev]")
    files = ["test_body.py", "test_sources.py", "test_store.py", "test_identity.py"]
    tests = [f"tests/{name}" for name in files]
    session.run("python", "-m", "pytest", "--portable-reads", *tests, *session.posargs)


@nox.session(python="3.11")
def wheel(session: nox.Session) -> None:
    """Build the sdist and wheel, check them, install the wheel (not the tree) in a fresh
    venv and run the keyless demo and a smoke test from it."""
    dist = Path(session.create_tmp()) / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.install("build", "twine")
    session.run("python", "-m", "build", "--outdir", str(dist), str(ROOT))
    built = sorted(str(p) for p in dist.iterdir())
    session.run("python", "-m", "twine", "check", "--strict", *built)
    wheel_file = next(p for p in built if p.endswith(".whl"))
    session.install(f"{wheel_file}[report]")
    # Run from a folder outside the tree, so `import nanoreverse` finds the wheel.
    with session.chdir(session.create_tmp()):
        session.run("python", str(ROOT / "tests" / "wheel_smoke.py"), str(ROOT))
