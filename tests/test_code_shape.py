"""The code stays readable top to bottom: small modules, short functions, no import cycles.

These are the project's stated limits (modules of at most 300 lines, functions
of at most 60, no cycle among ganzoo's modules at import time), checked on the
source so that they cannot quietly erode.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ganzoo"
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def test_no_module_is_longer_than_300_lines():
    long = {
        name: n
        for name, path in modules().items()
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_longer_than_60_lines():
    long = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{name}.{node.name}: {length} lines")
    assert long == []


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def import_time_edges(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules of ganzoo that ``name`` imports when it is imported (not inside functions)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    edges = set()
    body = list(ast.parse(path.read_text()).body)
    while body:
        node = body.pop(0)
        if isinstance(node, ast.If) and not _is_type_checking(node):
            body.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            body.extend(node.body)
        elif isinstance(node, ast.Import):
            edges.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(max(node.level - 1, 0)):
                base = base.rpartition(".")[0]
            module = ".".join(p for p in (base if node.level else "", node.module or "") if p)
            for alias in node.names:
                target = f"{module}.{alias.name}"
                edges.add(target if target in known else module)
    return {e for e in edges if e in known and e != name}


def test_no_import_cycles():
    found = modules()
    graph = {name: import_time_edges(name, path, set(found)) for name, path in found.items()}
    # A package's __init__ importing its own submodules is how packages work, not a cycle.
    graph = {n: {e for e in edges if not e.startswith(n + ".")} for n, edges in graph.items()}
    cycles = []

    def visit(node: str, stack: list[str], done: set[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt in stack:
                cycles.append(" -> ".join(stack[stack.index(nxt) :] + [nxt]))
            elif nxt not in done:
                visit(nxt, [*stack, nxt], done)
        done.add(node)

    done: set[str] = set()
    for name in sorted(graph):
        if name not in done:
            visit(name, [name], done)
    assert cycles == []


@pytest.mark.parametrize("name", ["ganzoo.leaderboard.page", "ganzoo.leaderboard.text"])
def test_the_leaderboard_views_import_only_the_board_model(name):
    """page/plot/text render a Board; they never reach into the store that writes it."""
    found = modules()
    edges = import_time_edges(name, found[name], set(found))
    assert "ganzoo.leaderboard.store" not in edges
