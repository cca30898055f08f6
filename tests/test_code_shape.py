"""The code stays readable top to bottom: small modules, short functions, no import cycles.

These are the project's stated limits (modules of at most 300 lines, functions
of at most 60, no cycle among first-party modules), checked on the source of
ganzoo/ and of the first-party plugins in plugins/ganzoo_*/ so that they cannot
quietly erode. The cycle check reads every import a module can run, those
inside functions included; only imports under ``if TYPE_CHECKING:`` are left
out, because they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted name -> file of each module of ganzoo/ and of the plugins in plugins/ganzoo_*/."""
    folders = [(root / "ganzoo", root)]
    folders += [(p, root / "plugins") for p in sorted((root / "plugins").glob("ganzoo_*"))]
    found = {}
    for folder, base in folders:
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(base).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def test_the_shape_checks_see_ganzoo_and_the_first_party_plugins():
    found = modules()
    assert {"ganzoo.cli", "ganzoo_gan", "ganzoo_gan.base", "ganzoo_diffusion.unet"} <= set(found)
    assert all(p.suffix == ".py" for p in found.values())


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


def _is_type_checking(node: ast.AST) -> bool:
    """``if TYPE_CHECKING:`` or ``if typing.TYPE_CHECKING:``."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST):
    """Every import statement in ``tree``, at any depth, except under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif _is_type_checking(node):
            stack.extend(node.orelse)  # the else branch is what runs
        else:
            stack.extend(ast.iter_child_nodes(node))


def import_edges(name: str, path: Path, known: set[str]) -> set[str]:
    """First-party modules that ``name`` may import: at import time or inside its functions."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    edges = set()
    for node in _imports(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            edges.update(a.name for a in node.names)
            continue
        base = package
        for _ in range(max(node.level - 1, 0)):
            base = base.rpartition(".")[0]
        module = ".".join(p for p in (base if node.level else "", node.module or "") if p)
        for alias in node.names:
            target = f"{module}.{alias.name}"
            edges.add(target if target in known else module)
    return {e for e in edges if e in known and e != name}


def import_graph(found: dict[str, Path]) -> dict[str, set[str]]:
    graph = {name: import_edges(name, path, set(found)) for name, path in found.items()}
    # A package's __init__ importing its own submodules is how packages work, not a cycle.
    return {n: {e for e in edges if not e.startswith(n + ".")} for n, edges in graph.items()}


def import_cycles(graph: dict[str, set[str]]) -> list[str]:
    """One ``a -> b -> a`` line for each cycle a depth-first walk of ``graph`` runs into."""
    cycles = []
    done: set[str] = set()

    def visit(node: str, stack: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt in stack:
                cycles.append(" -> ".join(stack[stack.index(nxt) :] + [nxt]))
            elif nxt not in done:
                visit(nxt, [*stack, nxt])
        done.add(node)

    for name in sorted(graph):
        if name not in done:
            visit(name, [name])
    return cycles


def test_no_import_cycles():
    assert import_cycles(import_graph(modules())) == []


def test_the_cycle_check_sees_imports_inside_functions_but_not_type_checking_ones(tmp_path):
    (tmp_path / "ganzoo").mkdir()
    (tmp_path / "ganzoo" / "__init__.py").write_text("from ganzoo import a, b\n")
    (tmp_path / "ganzoo" / "a.py").write_text("from . import b\n")
    (tmp_path / "ganzoo" / "b.py").write_text("def f():\n    from ganzoo.a import x\n")
    (tmp_path / "ganzoo" / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ganzoo import d\n"
    )
    (tmp_path / "ganzoo" / "d.py").write_text(
        "class K:\n    def m(self):\n        import ganzoo.c\n"
    )
    graph = import_graph(modules(tmp_path))
    assert graph == {
        "ganzoo": set(),
        "ganzoo.a": {"ganzoo.b"},
        "ganzoo.b": {"ganzoo.a"},
        "ganzoo.c": set(),
        "ganzoo.d": {"ganzoo.c"},
    }
    assert import_cycles(graph) == ["ganzoo.a -> ganzoo.b -> ganzoo.a"]


@pytest.mark.parametrize("name", ["ganzoo.leaderboard.page", "ganzoo.leaderboard.text"])
def test_the_leaderboard_views_import_only_the_board_model(name):
    """page/plot/text render a Board; they never reach into the store that writes it."""
    found = modules()
    edges = import_edges(name, found[name], set(found))
    assert "ganzoo.leaderboard.store" not in edges
