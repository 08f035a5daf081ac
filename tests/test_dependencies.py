"""pyproject.toml declares exactly what the code imports: nothing missing, nothing unused (issue 14)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OWN = {"bot", "generation", "storage", "tests"}
# Declared but never imported, on purpose: a pytest plugin (asyncio_mode in pyproject), the linter,
# the type checker and the stubs it reads.
TOOLS = {"pytest-asyncio", "ruff", "mypy", "types-pyyaml", "types-tqdm"}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(requirements: list[str]) -> set[str]:
    return {_normal(re.match(r"[A-Za-z0-9_.-]+", requirement).group()) for requirement in requirements}  # type: ignore[union-attr]


def _imported(*folders: str) -> set[str]:
    """Distributions of the third-party modules imported anywhere under the folders."""
    modules = set()
    for folder in folders:
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    third_party = modules - OWN - set(sys.stdlib_module_names) - {"__future__"}
    owners = packages_distributions()
    missing = sorted(module for module in third_party if module not in owners)
    assert not missing, f"imported but not installed: {missing}"
    return {_normal(dist) for module in third_party for dist in owners[module]}


def test_every_import_is_declared_and_every_declaration_imported() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = _declared(project["dependencies"])
    extras = project["optional-dependencies"]
    test, postgres = _declared(extras["test"]), _declared(extras["postgres"])
    code, tests = _imported("bot", "generation", "storage"), _imported("tests")
    assert code - runtime - postgres == set(), "imported by the package but not declared"
    assert tests - runtime - postgres - test == set(), "imported by the tests but not declared"
    assert runtime - code == set(), "declared in dependencies but never imported by the package"
    assert postgres - code == set(), "declared in the postgres extra but never imported by the package"
    assert test - tests - TOOLS == set(), "declared in the test extra but never imported by the tests"


def test_the_optional_postgres_driver_is_imported_only_inside_functions() -> None:
    """SQLite needs nothing beyond the dependencies: a module that imported psycopg at the top
    would break `pip install dallebot` without the postgres extra."""
    top_level = []
    for folder in ("bot", "generation", "storage"):
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                if any(name.split(".")[0] == "psycopg" for name in names):
                    top_level.append(str(path.relative_to(REPO)))
    assert top_level == []
