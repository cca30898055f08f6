"""Finding a dataset by name (``mnist5k``, ``folder:PATH``, ``npz:PATH``, ...)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import plugins
from ..errors import GanzooError


@dataclass
class DatasetEntry:
    """A registered dataset: ``loader(split, ctx) -> ImageData``."""

    name: str
    loader: Callable
    description: str
    source: str
    plugin: str
    takes_argument: bool


def dataset_entries() -> list[DatasetEntry]:
    return [_entry(r) for r in plugins.registry("register_datasets").values()]


def _entry(reg: plugins.Registered) -> DatasetEntry:
    return DatasetEntry(
        name=reg.name,
        loader=reg.obj,
        description=reg.extra.get("description", ""),
        source=reg.extra.get("source", ""),
        plugin=reg.plugin,
        takes_argument=bool(reg.extra.get("takes_argument", False)),
    )


def names_a_path(name: str) -> bool:
    """Whether ``name`` points at the user's own files (``npz:PATH``, ``folder:PATH``, ...)."""
    base, sep, _ = name.partition(":")
    if not sep:
        return False
    entry = plugins.registry("register_datasets").get(base)
    return entry is not None and bool(entry.extra.get("takes_argument", False))


def load_dataset(
    name: str,
    split: str = "train",
    *,
    data_root: str | Path | None = None,
    download: bool = False,
):
    """Load one split of a dataset by its (possibly ``name:ARG``) name."""
    from .base import SPLITS, LoadContext

    if split not in SPLITS:
        raise GanzooError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    base, sep, arg = name.partition(":")
    entry = _entry(plugins.lookup("register_datasets", base, "dataset"))
    if entry.takes_argument and not sep:
        raise GanzooError(f"dataset {base!r} needs an argument: use {base}:PATH")
    if sep and not entry.takes_argument:
        raise GanzooError(f"dataset {base!r} takes no argument (got {name!r})")
    ctx = LoadContext(
        arg=arg or None, data_root=Path(data_root) if data_root else None, download=download
    )
    return entry.loader(split, ctx)


def dataset_rows(data_root: str | Path | None = None) -> list[dict[str, Any]]:
    """Every registered dataset as a plain dict, each loaded to give its spec and split sizes
    (``ganzoo datasets``, ``--json``); one that cannot load says why instead."""
    rows = []
    for entry in sorted(dataset_entries(), key=lambda e: e.name):
        row: dict[str, Any] = {
            "name": entry.name + (":PATH" if entry.takes_argument else ""),
            "plugin": entry.plugin,
            "description": entry.description,
            "source": entry.source,
            "spec": None,
            "size": None,
            "available": None,
        }
        if not entry.takes_argument:
            try:
                sizes = {}
                for split in ("train", "test"):
                    data = load_dataset(entry.name, split, data_root=data_root)
                    sizes[split] = len(data)
                row["spec"], row["size"], row["available"] = data.spec.as_dict(), sizes, True
            except GanzooError as exc:
                row["available"] = False
                row["error"] = str(exc)
        rows.append(row)
    return rows
