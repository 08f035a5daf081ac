"""The imports point one way and close no circle (issue 17), read from the source without running it.

    composition root (bot.app, bot.assembly, bot.cli, bot.__main__, bot.bench)
        → adapters (bot.adapters.<platform>, each on its own)
        → the bot's core (service, worker, delivery, daily, safety, config, …; bot.adapters.base
          is the interface the core and the adapters share)
        → storage and generation (neither imports the other)
        → storage.domain (the vocabulary: imports nothing of the project)

Every import counts: at module level, inside a function, and under `if TYPE_CHECKING:` (a type
that must be imported upwards is a door in the wrong place too). A package's `__init__` running
before its modules is not counted as an import of it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "generation", "storage")
ROOT = ("bot.app", "bot.assembly", "bot.cli", "bot.__main__", "bot.bench")
MAX_LINES = 400  # ../shared/STYLE.md: modules of 40–400 lines


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project's modules that `name` imports anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            candidates = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in known:  # `import a.b.c` of a name inside a module
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
    return targets


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def _within(name: str, *prefixes: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def _layer(name: str) -> str:
    if name == "storage.domain":
        return "vocabulary"
    if _within(name, "storage"):
        return "storage"
    if _within(name, "generation"):
        return "generation"
    if _within(name, *ROOT):
        return "root"
    if _within(name, "bot.adapters") and name not in ("bot.adapters", "bot.adapters.base"):
        return "adapter"
    return "core"


# layer → the layers it may import (besides itself)
ALLOWED = {
    "vocabulary": set(),
    "storage": {"vocabulary"},
    "generation": set(),
    "core": {"storage", "generation", "vocabulary"},
    "adapter": {"core", "storage", "generation", "vocabulary"},
    "root": {"adapter", "core", "storage", "generation", "vocabulary"},
}


def _upward(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for source, targets in graph.items():
        for target in targets:
            low, high = _layer(source), _layer(target)
            if low == "vocabulary" or (high != low and high not in ALLOWED[low]):
                wrong.append(f"{source} ({low}) imports {target} ({high})")
            elif low == high == "adapter" and target.split(".")[2] != source.split(".")[2]:
                wrong.append(f"{source} imports another platform's {target}")
    return sorted(wrong)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_imports_point_one_way() -> None:
    assert _upward(_graph()) == []


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_private_names_stay_inside_their_subpackage() -> None:
    """A `_name` may be shared by the modules of one small package (bot.cli, bot.safety), never
    across packages nor among the top-level package's own modules (bot.worker → bot.continuous)."""
    leaks = []
    for name, path in _modules().items():
        home = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module):
                continue
            if node.module.split(".")[0] not in PACKAGES:
                continue
            shared = node.module.rpartition(".")[0] == home and "." in home
            if not shared:
                leaks += [f"{name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    assert leaks == []


def test_no_module_over_the_size_limit() -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in _modules().items()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


@pytest.mark.parametrize(
    ("graph", "problem"),
    [
        ({"storage.queue": {"bot.domain"}, "bot.domain": set()}, "upward"),
        ({"bot.service": {"bot.adapters.discord.ports"}, "bot.adapters.discord.ports": set()}, "upward"),
        ({"bot.adapters.x.api": {"bot.adapters.web.guard"}, "bot.adapters.web.guard": set()}, "upward"),
        ({"generation.pipeline": {"storage.domain"}, "storage.domain": set()}, "upward"),
        ({"storage.domain": {"storage.errors"}, "storage.errors": set()}, "upward"),
        ({"bot.worker": {"bot.continuous"}, "bot.continuous": {"bot.worker"}}, "cycle"),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, "cycle"),
    ],
)
def test_the_checks_catch_what_they_are_for(graph: dict[str, set[str]], problem: str) -> None:
    assert (_upward(graph) if problem == "upward" else _cycles(graph)) != []


def test_the_checks_pass_a_graph_that_points_down() -> None:
    graph = {
        "bot.app": {"bot.adapters.discord", "bot.service"},
        "bot.adapters.discord": {"bot.adapters.base", "bot.service"},
        "bot.adapters.base": {"storage.domain"},
        "bot.service": {"storage.store", "generation.pipeline", "bot.adapters.base"},
        "storage.store": {"storage.domain"},
        "storage.domain": set(),
        "generation.pipeline": set(),
    }
    assert _upward(graph) == [] and _cycles(graph) == []
