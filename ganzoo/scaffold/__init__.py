"""``ganzoo plugin new``: write a plugin distribution that works before it is edited.

The generated package passes ``ganzoo check`` and its own tests as written, so
an author changes a working plugin step by step instead of debugging a blank
one.  The files are written into a temporary sibling directory and renamed
into place, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import keyword
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..config import option
from ..errors import ConfigError, GanzooError
from . import skeletons, templates

KINDS = ("model", "dataset", "extractor", "tracker", "command")
#: The kinds ``ganzoo check NAME`` has conformance checks for (not trackers, not commands).
CHECKED = ("model", "dataset", "extractor")
NAME = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")
SKELETONS = {
    "model": ("model.py", skeletons.MODEL, "Model"),
    "dataset": ("dataset.py", skeletons.DATASET, ""),
    "extractor": ("extractor.py", skeletons.EXTRACTOR, "Extractor"),
    "tracker": ("tracker.py", skeletons.TRACKER, "Tracker"),
}
#: Import lines each kind needs, by isort section: (standard library, third party, the plugin).
IMPORTS = {
    "hooks": {"*": ((), ("import ganzoo",), ()), "command": ((), ("import click",), ())},
    "tests": {
        "*": ((), ("import ganzoo", "import ganzoo.testing"), ("import __PACKAGE__",)),
        "dataset": (("import json",), (), ()),
        "extractor": (("import json",), ("import numpy",), ()),
        "tracker": (("import csv",), (), ()),
    },
}


@dataclass(kw_only=True)
class NewPluginOptions:
    """What ``ganzoo plugin new`` writes, and where."""

    kinds: tuple[str, ...] = option(
        (),
        f"What the plugin registers (repeatable or comma-separated): {', '.join(KINDS)}. "
        "Default: model.",
        flag="--kind",
        metavar="KIND",
    )
    out: str | None = option(
        None,
        "Directory to create (default: ./ganzoo-NAME); it must not exist or be empty.",
        directory=True,
    )

    def __post_init__(self) -> None:
        """``--kind model,dataset --kind command`` becomes the kinds in KINDS' order."""
        chosen = [part.strip() for value in self.kinds for part in value.split(",") if part.strip()]
        unknown = sorted(set(chosen) - set(KINDS))
        if unknown:
            raise ConfigError(
                f"unknown --kind {', '.join(unknown)}; choose from {', '.join(KINDS)}"
            )
        self.kinds = tuple(kind for kind in KINDS if kind in chosen) or ("model",)


@dataclass
class Written:
    root: Path
    name: str
    dist: str
    kinds: list[str]
    files: list[str] = field(default_factory=list)


def names(name: str) -> dict[str, str]:
    """The placeholders for plugin ``name``: its distribution, package and class names."""
    if not NAME.fullmatch(name):
        raise GanzooError(
            f"plugin name {name!r}: use lowercase letters and digits, words joined by - or _ "
            "(e.g. mygan, my-gan)"
        )
    package = "ganzoo_" + name.replace("-", "_")
    camel = "".join(part.capitalize() for part in re.split(r"[-_]", name))
    if keyword.iskeyword(package) or not package.isidentifier():
        raise GanzooError(f"plugin name {name!r} does not make a Python package name")
    return {
        "__NAME__": name,
        "__PACKAGE__": package,
        "__DIST__": f"ganzoo-{name}",
        "__CLASS__": camel,
    }


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def render(name: str, kinds: list[str]) -> dict[str, str]:
    """``{relative path: content}`` of the plugin distribution."""
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown or not kinds:
        raise GanzooError(
            f"unknown kind {', '.join(unknown) or '(none)'}; choose from {', '.join(KINDS)}"
        )
    kinds = [kind for kind in KINDS if kind in kinds]
    values = {**names(name), "__KINDS__": ", ".join(kinds)}
    package = values["__PACKAGE__"]

    def joined(head: str, parts: dict[str, str], imports: dict) -> str:
        sections: list[set[str]] = [set(), set(), set()]
        for kind in ("*", *kinds):
            for section, lines in zip(sections, imports.get(kind, ((), (), ())), strict=True):
                section.update(lines)
        block = "\n\n".join("\n".join(sorted(lines)) for lines in sections if lines)
        return head.replace("__IMPORTS__", block) + "".join(parts[k] for k in kinds)

    files = {
        "pyproject.toml": templates.PYPROJECT,
        f"{package}/__init__.py": joined(templates.HOOKS_HEAD, templates.HOOKS, IMPORTS["hooks"]),
        f"tests/test_{package}.py": joined(templates.TESTS_HEAD, templates.TESTS, IMPORTS["tests"]),
        "README.md": _readme(kinds),
    }
    for kind in kinds:
        if kind in SKELETONS:
            filename, text, suffix = SKELETONS[kind]
            files[f"{package}/{filename}"] = text.replace("__CLASS__", f"__CLASS__{suffix}")
    return {path: _fill(text, values) for path, text in files.items()}


def _readme(kinds: list[str]) -> str:
    """The README; ``ganzoo check`` is shown only when it has checks for one of ``kinds``."""
    checked = set(kinds) & set(CHECKED)
    text = templates.README.replace(
        "__CHECKS__", templates.CHECK_LINES if checked else templates.OWN_TESTS_LINE
    )
    return text.replace(
        "__USAGE__", "\n```bash\n" + "".join(templates.USAGE[k] for k in kinds) + "```\n"
    ).replace("__FILES__", ", ".join(templates.FILES[k] for k in kinds))


def write_plugin(name: str, kinds: list[str], out: str | os.PathLike | None = None) -> Written:
    """Write plugin ``name`` into ``out`` (default ``./ganzoo-NAME``), which must not hold files."""
    files = render(name, kinds)
    root = Path(out) if out is not None else Path(f"ganzoo-{name}")
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise GanzooError(f"{str(root)!r} already exists and is not empty; choose another --out")
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
    try:
        for relative, content in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        if root.exists():
            root.rmdir()
        os.replace(staging, root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    values = names(name)
    return Written(root, name, values["__DIST__"], [k for k in KINDS if k in kinds], sorted(files))
