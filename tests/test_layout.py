"""The plan of the code, checked from its imports: `portal` never reaches up into the worker
layer, no module imports itself round a circle, and no module grows past a reader's patience."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("portal", "workflows")
# The command line starts the in-process workers and the scheduler: the one composition root.
MAY_START_WORKERS = {"portal.cli"}
MAX_LINES = 400


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imported(path: Path) -> Iterator[str]:
    """Every module named by an import in the file, function-level imports included."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {
        name: {target for target in imported(path) if target in known and target != name}
        for name, path in known.items()
    }


def test_portal_never_imports_the_worker_layer() -> None:
    offenders = sorted(
        f"{name} imports {target}"
        for name, targets in import_graph().items()
        if name.split(".")[0] == "portal" and name not in MAY_START_WORKERS
        for target in targets
        if target.split(".")[0] == "workflows"
    )
    assert offenders == []


def test_no_module_imports_itself_round_a_circle() -> None:
    graph = import_graph()
    circles: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert circles == []


def test_the_layout_check_sees_a_circle_and_an_upward_import() -> None:
    """The two checks above would pass on a graph they cannot read: prove they read it."""
    graph = import_graph()
    assert "portal.jobs" in graph["portal.orders.service"]
    assert "workflows.broker" in graph["workflows.mail"]
    assert any(target.startswith("workflows.") for target in graph["portal.cli"])


def test_no_module_is_over_400_lines() -> None:
    long = {
        name: lines
        for name, path in modules().items()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}
