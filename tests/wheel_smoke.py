"""Run by ``nox -s wheel`` in a fresh venv holding only the built wheel: the package as users
get it. Not collected by pytest (no ``test_`` prefix); run it as a script with the repo's
root as its argument, from a folder outside the repo."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def main(root: Path) -> None:
    import nanoreverse as nr

    package = Path(nr.__file__).parent
    # Installed from the wheel: in site-packages, not the tree (nor an editable link to it).
    assert package.parent.name == "site-packages", f"not the installed wheel: {package}"
    assert package.resolve() != (root / "nanoreverse").resolve(), "imported the source tree"
    assert (package / "py.typed").is_file(), "py.typed is missing from the wheel"
    templates = package / "report" / "templates"
    assert any(templates.glob("*.html*")), "the report's templates are missing from the wheel"
    plugins = importlib.metadata.entry_points(group="pytest11")
    assert any(e.value == "nanoreverse.testing.pytest_plugin" for e in plugins)
    command = shutil.which("nanoreverse", path=str(Path(sys.executable).parent))
    assert command, "the console script is missing"
    version = subprocess.run([command, "--version"], capture_output=True, text=True, check=True)
    assert nr.__version__ in version.stdout

    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "out"
        demo = [command, "analyze", str(root / "examples" / "videos"), "--emulator"]
        demo += ["--out", str(out), "--report"]
        done = subprocess.run(demo, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        made = sorted(p.name for p in out.rglob("*.md"))
        assert len(made) == 3, made
        assert (out / "report" / "index.html").is_file()
    print(f"wheel smoke test passed: nanoreverse {nr.__version__} from {package}")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
