"""The import graph has floors: kernel → intents, storage → handlers → shell; no circles."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).parents[1]
PACKAGES = ("bot", "intents", "handlers", "storage")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


def _imports(path: Path, known: set[str]) -> set[str]:
    """The project modules a file imports, at any depth (function-level imports count too)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        for name in names:
            # the longest known module that the name starts with
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                out.add(name)
    return out


def _floor(module: str) -> str:
    if module == "bot.core" or module.startswith("bot.core."):
        return "kernel"
    top = module.split(".")[0]
    return "shell" if top == "bot" else top


# Which floors each floor may import (its own included).
ALLOWED = {
    "kernel": {"kernel"},
    "intents": {"kernel", "intents"},
    "storage": {"kernel", "storage"},
    "handlers": {"kernel", "intents", "storage", "handlers"},
    "shell": {"kernel", "intents", "storage", "handlers", "shell"},
}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, known) - {name} for name, path in modules.items()}


def _upward(graph: dict[str, set[str]]) -> list[str]:
    """Every import that runs up a floor (the empty `bot` package itself aside)."""
    return [
        f"{module} ({_floor(module)}) imports {target} ({_floor(target)})"
        for module, targets in sorted(graph.items())
        for target in sorted(targets)
        if target != "bot" and _floor(target) not in ALLOWED[_floor(module)]
    ]


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles found by a depth-first walk (a package importing its own part aside)."""
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph or nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                circles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return circles


def test_no_import_runs_up_a_floor() -> None:
    assert _upward(_graph()) == []


def test_the_kernel_imports_nothing_else_of_the_project() -> None:
    for module, targets in _graph().items():
        if _floor(module) == "kernel":
            assert {_floor(t) for t in targets} <= {"kernel"}, module


def test_there_is_no_circle_between_modules() -> None:
    assert _circles(_graph()) == []


def test_the_checks_find_a_circle_and_an_upward_import(tmp_path: Path) -> None:
    """The checks above would fail on a graph with the faults they look for."""
    graph = {
        "handlers.a": {"handlers.b"},
        "handlers.b": {"handlers.a", "bot.dispatcher"},
        "bot.dispatcher": set(),
        "storage.x": {"intents.y"},
        "intents.y": set(),
    }
    assert _circles(graph) == [["handlers.a", "handlers.b", "handlers.a"]]
    assert _upward(graph) == [
        "handlers.b (handlers) imports bot.dispatcher (shell)",
        "storage.x (storage) imports intents.y (intents)",
    ]
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from bot.app import App\n", encoding="utf-8")
    assert _imports(source, {"bot.app", "bot"}) == {"bot.app"}
