"""Pretrained models by name: folders that plugins ship and register.

A plugin registers each folder through the ``register_pretrained`` hook with
the sha256 of its weights file, so the hash that protects a shipped model is
held in the plugin's code, not beside the file.  ganzoo's own models come from
the ``ganzoo_pretrained`` plugin, through the same hook as anyone's.  Whether a
TARGET is such a name is decided with everything else a TARGET can be, in
``target.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .folder import CONFIG, MAX_CONFIG_BYTES, RESULTS, WEIGHTS

HOOK = "register_pretrained"


@dataclass(frozen=True)
class Pretrained:
    name: str
    folder: Path
    sha256: str | None
    description: str
    plugin: str


def pretrained_models() -> dict[str, Pretrained]:
    """Every registered pretrained model, clashing names left out (using one is an error)."""
    from .. import plugins

    return {
        name: Pretrained(
            name,
            Path(reg.obj),
            reg.extra.get("sha256"),
            reg.extra.get("description", ""),
            reg.plugin,
        )
        for name, reg in sorted(plugins.registry(HOOK).items())
        if not reg.conflicts
    }


def is_pretrained_name(target: object) -> bool:
    from .. import plugins

    return isinstance(target, str) and target in plugins.registry(HOOK)


def pretrained_rows() -> list[dict]:
    """What ``ganzoo models --pretrained`` shows, read from each folder (no torch needed)."""
    rows = []
    for entry in pretrained_models().values():
        config = _json(entry.folder / CONFIG, dict) or {}
        results = [r for r in _json(entry.folder / RESULTS, list) or [] if isinstance(r, dict)]
        try:
            size = (entry.folder / WEIGHTS).stat().st_size
        except OSError:
            size = None
        rows.append(
            {
                "name": entry.name,
                "plugin": entry.plugin,
                "model": config.get("model"),
                "dataset": config.get("dataset"),
                "step": config.get("step"),
                "dtype": config.get("dtype"),
                "parameters": config.get("parameters"),
                "size_bytes": size,
                "description": entry.description,
                "results": [_headline(r) for r in results],
                "folder": str(entry.folder),
            }
        )
    return rows


def _json(path: Path, kind: type) -> Any:
    """The JSON in ``path`` if it is a ``kind``, else None: a listing shows what it can read."""
    try:
        with path.open("rb") as fh:
            data = json.loads(fh.read(MAX_CONFIG_BYTES * 16))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, kind) else None


def _headline(result: dict) -> dict:
    p = _dict(result.get("protocol"))
    metrics = {
        k: v
        for k, v in _dict(result.get("metrics")).items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
    sampling = _dict(_dict(p.get("generated")).get("sampling"))
    return {
        "extractor": _dict(p.get("extractor")).get("name"),
        "num_generated": _dict(p.get("generated")).get("num_images"),
        "num_real": _dict(p.get("reference")).get("num_images"),
        "protocol_id": result.get("protocol_id"),
        "sampling": {"nfe": sampling.get("nfe"), "settings": _dict(sampling.get("settings"))},
        "collapsed": collapsed(metrics),
        "metrics": metrics,
    }


def collapsed(metrics: dict[str, float]) -> str | None:
    """Why these numbers say the model collapsed, or None: a FID alone does not say it (28 for
    a collapsed GAN on lenet-mnist reads like a weak model, not a broken one)."""
    recall, score = metrics.get("recall"), metrics.get("inception_score_mean")
    if recall is not None and recall < 0.01:
        return f"recall {recall:.3f}: its images cover none of the real ones"
    if score is not None and score < 1.5:
        return f"IS {score:.2f}: every image is classified alike"
    return None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}
