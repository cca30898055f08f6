"""The public API: ``ganzoo.__all__`` resolves, and plugins use nothing else of ganzoo.

docs/plugins.md promises that plugins import only from ``ganzoo`` (the names in
``ganzoo.__all__``).  ganzoo's own plugins in ``plugins/`` are the proof that this
is enough, so every Python file there is parsed (``ast``) for any way of reaching
a private module: ``import ganzoo.x``, ``from ganzoo.x import y``, ``from ganzoo
import <not public>``, ``ganzoo.<not public>`` attribute access, and
``"ganzoo.x:attr"`` references that ganzoo itself imports later (feature
extractor classes and weight resolvers may be given that way).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ganzoo

REPO = Path(__file__).resolve().parents[1]
PLUGIN_FILES = sorted((REPO / "plugins").rglob("*.py"))
PUBLIC = frozenset(ganzoo.__all__)
#: Submodules that are public too: the testing API for plugins' own tests (docs/plugins.md).
PUBLIC_MODULES = frozenset({"ganzoo.testing"})
#: docs/plugins.md marks each code block of its example with this comment (see test_docs.py).
EXAMPLE_MARK = "<!-- example-file: "


def private_uses(source: str, public: frozenset[str] = PUBLIC) -> list[tuple[int, str]]:
    """(line, what) for every use of ganzoo beyond ``public`` in ``source``."""
    tree = ast.parse(source)
    found: list[tuple[int, str]] = []
    aliases = set()  # local names bound to the ganzoo package itself
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in PUBLIC_MODULES:
                    continue
                if alias.name.startswith("ganzoo."):
                    found.append((node.lineno, f"import {alias.name}"))
                elif alias.name == "ganzoo":
                    aliases.add(alias.asname or "ganzoo")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module in PUBLIC_MODULES:
                continue
            if node.module.startswith("ganzoo."):
                found.append((node.lineno, f"from {node.module} import ..."))
            elif node.module == "ganzoo":
                for alias in node.names:
                    if alias.name != "*" and alias.name not in public:
                        found.append((node.lineno, f"from ganzoo import {alias.name}"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            module, sep, attr = node.value.partition(":")
            dotted = all(part.isidentifier() for part in module.split("."))
            if sep and module.startswith("ganzoo.") and dotted and attr.isidentifier():
                found.append((node.lineno, f"reference {node.value!r}"))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in ("import_module", "__import__") and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and str(first.value).startswith("ganzoo."):
                    found.append((node.lineno, f"{name}({first.value!r})"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr not in public
            and f"ganzoo.{node.attr}" not in PUBLIC_MODULES
            and not node.attr.startswith("__")
        ):
            found.append((node.lineno, f"{node.value.id}.{node.attr}"))
    return sorted(set(found))


def report(path: Path, uses: list[tuple[int, str]]) -> str:
    where = path.relative_to(REPO)
    return "\n".join(f"{where}:{line}: {what}" for line, what in uses)


# --------------------------------------------------------------------------- the checker


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import ganzoo.config", [(1, "import ganzoo.config")]),
        ("import ganzoo.eval.api as api", [(1, "import ganzoo.eval.api")]),
        (
            "from ganzoo.eval.extractors import ResolvedWeights",
            [(1, "from ganzoo.eval.extractors import ...")],
        ),
        ("from ganzoo import config", [(1, "from ganzoo import config")]),
        ("import ganzoo\nganzoo.config.describe(C)", [(2, "ganzoo.config")]),
        ("import ganzoo as gz\n\ngz.plugins.reset()", [(3, "gz.plugins")]),
        ('X = "ganzoo.eval.inception:resolve_weights"', [(1, "reference 'ganzoo.eval.inception:resolve_weights'")]),
        (
            'import importlib\nimportlib.import_module("ganzoo.train")',
            [(2, "import_module('ganzoo.train')")],
        ),
        ("import ganzoo\nfrom ganzoo import Model, hookimpl\nganzoo.Phase", []),
        ("import ganzoo.testing\nfrom ganzoo.testing import tiny_data\nganzoo.testing.check_model(C)", []),
        ("from ganzoo.testing.models import ModelChecks", [(1, "from ganzoo.testing.models import ...")]),
        ("from .model import X\nimport ganzoo_gan.nets\n'ganzoo_gan.nets:Net'", []),
        ('"""See ``ganzoo.eval.safeload``: prose is not a reference."""', []),
        ('"ganzoo.eval: not a reference either"', []),
    ],
)  # fmt: skip
def test_the_checker_finds_every_kind_of_private_use(source, expected):
    assert private_uses(source) == expected


# --------------------------------------------------------------------------- the plugins


def test_plugin_files_are_found():
    names = {p.relative_to(REPO / "plugins").parts[0] for p in PLUGIN_FILES}
    assert {"ganzoo_gan", "ganzoo_vae", "ganzoo_transformer", "ganzoo_datasets"} <= names


@pytest.mark.parametrize("path", PLUGIN_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_plugins_use_only_the_public_api(path):
    uses = private_uses(path.read_text(encoding="utf-8"))
    assert not uses, "private ganzoo API used (add the name to ganzoo/__init__.py):\n" + report(
        path, uses
    )


def doc_example_python() -> dict[str, str]:
    """The Python files of docs/plugins.md's example, by name."""
    files, lines = {}, (REPO / "docs" / "plugins.md").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.startswith(EXAMPLE_MARK) and line.rstrip().endswith(".py -->"):
            name = line[len(EXAMPLE_MARK) :].rstrip().removesuffix("-->").strip()
            end = lines.index("```", i + 2)  # the block opens on the next line
            files[name] = "\n".join(lines[i + 2 : end]) + "\n"
    return files


def test_the_plugin_docs_example_uses_only_the_public_api():
    files = doc_example_python()
    assert len(files) >= 2, f"no marked example files found in docs/plugins.md: {sorted(files)}"
    for name, source in files.items():
        uses = private_uses(source)
        assert not uses, f"docs/plugins.md, example file {name}: {uses}"


# --------------------------------------------------------------------------- ganzoo.__all__


def test_every_public_name_resolves_in_a_fresh_interpreter():
    # A fresh interpreter: here, other tests have imported the submodules already,
    # which would hide a name that only works after someone else's import.
    code = textwrap.dedent(
        """
        import ganzoo
        missing = []
        for name in ganzoo.__all__:
            try:
                value = getattr(ganzoo, name)
            except Exception as exc:
                missing.append(f"{name}: {type(exc).__name__}: {exc}")
                continue
            if value is None:
                missing.append(f"{name}: None")
        print("\\n".join(missing))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", "names in ganzoo.__all__ that do not resolve:\n" + proc.stdout


def test_all_names_each_name_once_and_unknown_names_raise():
    assert len(ganzoo.__all__) == len(set(ganzoo.__all__))
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        ganzoo.no_such_name  # noqa: B018


def test_in_process_plugins_through_the_public_api():
    """docs/plugins.md: ``ganzoo.register_plugin`` works after a plain ``import ganzoo``."""
    from dataclasses import dataclass

    @dataclass
    class PublicConfig:
        width: int = 2

    cls = type(
        "PublicApiModel",
        (ganzoo.Model,),
        {"name": "publicapigan", "family": "test", "description": "d", "Config": PublicConfig},
    )

    class Plugin:
        @ganzoo.hookimpl
        def register_models(self, register):
            register(cls)

    ganzoo.register_plugin(Plugin(), "publicapi")
    try:
        assert ganzoo.model_class("publicapigan") is cls
    finally:
        ganzoo.unregister_plugin("publicapi")
    with pytest.raises(ganzoo.PluginError, match="unknown model 'publicapigan'"):
        ganzoo.model_class("publicapigan")
