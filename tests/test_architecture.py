"""The layout of docs/architecture.md holds: who may import whom, and no import circles.

Read from the source with ``ast`` (every import, at module level or inside a function), so that a lazy
import in a command counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import parcours

ROOT = Path(parcours.__file__).parent
#: Modules every package may import: the package's version, the error base, the vocabulary, TOML reading.
LEAVES = {
    "parcours",
    "parcours.errors",
    "parcours.vocabulary",
    "parcours.specfile",
    "parcours.lifeline",
    "parcours.__main__",
}
#: For each package, the packages of ours it may import besides the leaves and itself.
MAY_IMPORT = {
    "personas": set(),
    "scenarios": {"personas"},
    "output": set(),
    "simulator": {"personas", "scenarios", "output"},
    "report": {"output"},
    "loadtests": {"output"},
    "backend": set(),
    "strategy": {"personas", "scenarios", "output", "simulator", "report"},
    "api": {"personas", "scenarios", "output", "simulator", "report", "loadtests", "strategy"},
    "cli": {"personas", "scenarios", "output", "simulator", "report", "loadtests", "backend", "strategy"}
    | {"api"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The parcours modules ``path`` imports (a ``from package import module`` names the module)."""
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "parcours"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "parcours":
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
    return found


MODULES = {_module_name(p): p for p in ROOT.rglob("*.py")}
GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in MAY_IMPORT else None


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _package(m)))
def test_imports_follow_the_layout(module: str) -> None:
    own = _package(module)
    assert own is not None
    allowed = MAY_IMPORT[own] | {own}
    wrong = sorted(m for m in GRAPH[module] if m not in LEAVES and _package(m) not in allowed)
    assert not wrong, f"{module} ({own}) may import {sorted(allowed)} and the leaves, not {wrong}"


def test_only_loadtests_imports_locust_or_gevent() -> None:
    offenders = []
    for name, path in MODULES.items():
        if _package(name) == "loadtests":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{name}: {n}" for n in names if n.split(".")[0] in ("locust", "gevent")]
    assert not offenders


def test_no_import_circles() -> None:
    """Depth-first search for a back edge; the message names the circle."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for dep in sorted(GRAPH.get(module, ())):
            if dep not in MODULES:
                continue
            if state.get(dep) == 1:
                return path[path.index(dep) :] + [dep]
            if dep not in state and (circle := visit(dep)):
                return circle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(MODULES):
        if module not in state and (circle := visit(module)):
            pytest.fail("import circle: " + " -> ".join(circle))


def test_the_checks_see_a_forbidden_import(tmp_path: Path) -> None:
    """The import reader itself: a simulator module importing the report would be caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from parcours.report.pages import build\n    import parcours.cli.main\n")
    found = _imports(bad)
    assert "parcours.report.pages.build" in found and "parcours.cli.main" in found
    assert _package("parcours.report.pages.build") not in MAY_IMPORT["simulator"]


#: The engine's stages, each importing only those before it (docs/architecture.md, "The engine").
STAGES = ("model", "plan", "world", "run")


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "simulator" and parts[2] in STAGES else None


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _stage(m)))
def test_engine_stages_import_only_earlier_stages(module: str) -> None:
    own = _stage(module)
    assert own is not None
    allowed = STAGES[: STAGES.index(own) + 1]
    wrong = sorted(m for m in GRAPH[module] if (s := _stage(m)) is not None and s not in allowed)
    assert not wrong, f"{module} ({own}) may import the stages {list(allowed)}, not {wrong}"
    loose = sorted(m for m in GRAPH[module] if m.startswith("parcours.simulator.") and _stage(m) is None)
    assert not loose, f"{module}: every engine module lives in a stage ({STAGES}), not {loose}"


def test_the_stage_check_sees_a_late_import() -> None:
    """A planning module importing the SimPy world would be caught."""
    assert _stage("parcours.simulator.world.state") not in STAGES[: STAGES.index("plan") + 1]
    assert _stage("parcours.simulator.plan.day") == "plan" and _stage("parcours.cli.main") is None


#: The size rules of docs/architecture.md: a module a reader can hold in mind, a folder one can scan.
MAX_MODULE_LINES = 400
MAX_FOLDER_MODULES = 15


def test_no_module_is_longer_than_the_limit() -> None:
    long = {
        n: c
        for n, p in MODULES.items()
        if (c := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them by what they do): {long}"


def test_no_folder_holds_more_modules_than_the_limit() -> None:
    folders: dict[Path, int] = {}
    for path in MODULES.values():
        if path.name != "__init__.py":
            folders[path.parent] = folders.get(path.parent, 0) + 1
    crowded = {str(f.relative_to(ROOT.parent)): n for f, n in folders.items() if n > MAX_FOLDER_MODULES}
    assert not crowded, f"folders over {MAX_FOLDER_MODULES} modules (cut them into stages): {crowded}"
    assert folders, "the walk found no module at all"
