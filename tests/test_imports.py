"""The library's modules import one another without a cycle (each idea stands on the ones
below it), and the public names are sorted and say they are nanoreverse's."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import nanoreverse as nr

from .helpers import YT

PACKAGE = Path(nr.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every nanoreverse module ``path`` imports at run time, at the top or inside a
    function (those under ``if TYPE_CHECKING:`` are for the type checker only)."""
    tree = ast.parse(path.read_text())
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom):
                base = package.split(".")
                base = base[: len(base) - child.level + 1] if child.level else []
                target = ".".join([*base, *(child.module or "").split(".")]).strip(".")
                found.add(target)
                found.update(f"{target}.{alias.name}" for alias in child.names)
            elif isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            visit(child)

    visit(tree)
    return found


def test_the_import_graph_has_no_cycle() -> None:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {
        name: {target for target in imports_of(path) if target in modules and target != name}
        for name, path in modules.items()
    }
    # A package's __init__ re-exports its modules; importing the package is not a cycle.
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    visiting: list[str] = []
    done: set[str] = set()

    def walk(name: str) -> None:
        if name in done:
            return
        assert name not in visiting, " -> ".join([*visiting[visiting.index(name) :], name])
        visiting.append(name)
        for target in sorted(graph[name]):
            walk(target)
        visiting.pop()
        done.add(name)

    for name in sorted(graph):
        walk(name)


def test_all_is_sorted_and_every_public_class_is_nanoreverses() -> None:
    # Constants first, then the rest, alphabetically (ruff's RUF022 order).
    assert nr.__all__ == sorted(nr.__all__, key=lambda name: (not name.isupper(), name))
    for name in nr.__all__:
        value = getattr(nr, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__ == "nanoreverse", name


def test_each_public_name_is_one_object_and_the_type_checker_sees_the_same_names() -> None:
    import importlib

    modules = [importlib.import_module(m, "nanoreverse") for m in nr._MODULES]
    for name in nr._LAZY:
        held = [getattr(m, name) for m in modules if hasattr(m, name)]
        assert held, f"{name} is in __all__ but in none of the modules"
        assert all(value is held[0] for value in held), name
    # What `if TYPE_CHECKING:` imports (for mypy and IDEs) is what loads lazily.
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    checked = next(n for n in tree.body if isinstance(n, ast.If))
    imported = {a.name for n in ast.walk(checked) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert imported == nr._LAZY


def test_the_type_aliases_are_real_objects() -> None:
    assert isinstance(nr.YouTube(YT), nr.Source)
    assert isinstance("clip.mp4", nr.SourceLike)
    assert isinstance(nr.Queued(0, "a.mp4"), nr.Event)


# The library's concerns, lowest first: a module imports only from its own group or a lower
# one, so each folder can be read knowing only what is below it. The apps on top (cli,
# report) and the emulator (testing) are users of the library.
LAYERS = [
    {"_errors", "_config", "_clock", "_redis", "_keys", "_loops", "_closing", "_signature"},
    {"_answer"},
    {"_sources"},
    {"_limits"},
    {"_transport"},
    {"_store"},
    {"_batch"},
    {"_client", "_parts", "_sync", "_blocking", "_arguments", "__init__"},
]


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    group = parts[1] if len(parts) > 1 else "__init__"
    for index, layer in enumerate(LAYERS):
        if group in layer:
            return index
    return None


def test_no_module_imports_from_a_layer_above_its_own() -> None:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    upward = []
    for name, path in modules.items():
        own = layer_of(name)
        if own is None:
            continue
        for target in imports_of(path):
            theirs = layer_of(target) if target.startswith("nanoreverse") else None
            if target in modules and theirs is not None and theirs > own:
                upward.append(f"{name} -> {target}")
    assert not upward, upward
    grouped = {layer_of(name) for name in modules}
    outside = {name.split(".")[1] for name in modules if layer_of(name) is None}
    assert outside == {"cli", "report", "testing", "__main__"}  # apps; no module unplaced
    assert set(range(len(LAYERS))) <= grouped, "a layer above names a group that is gone"


def test_the_command_line_and_the_report_use_the_public_api_only() -> None:
    private = []
    for folder in ("cli", "report"):
        for path in (PACKAGE / folder).rglob("*.py"):
            for target in imports_of(path):
                parts = target.split(".")
                hidden = any(p.startswith("_") and not p.startswith("__") for p in parts[1:])
                # Their own private modules are theirs to use.
                if parts[0] == "nanoreverse" and hidden and parts[1] not in ("cli", "report"):
                    private.append(f"{module_name(path)} -> {target}")
    assert not private, private
