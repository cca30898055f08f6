"""A row's memorization gallery: its generated images nearest to training images, on the board.

``ganzoo eval --metrics memorization`` keeps the gallery inside the result file
(a base64 PNG beside the pairs' distances), so a board shows it without the
run's images or the dataset.  A result file may be someone else's: the bytes
reach the board folder only when they decode as a PNG within the size limits
(``files.read.png_problem``), and the distances only when they are numbers.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
from pathlib import Path
from typing import Any

from ..files.read import png_problem, warn_once
from ..files.write import atomic_write

#: Largest gallery accepted from a result file (a real one is a few kB).
LIMIT = 1 << 20


def gallery_columns(
    result: dict[str, Any], source: Path, target: Path, out_dir: Path
) -> dict[str, Any]:
    """``copies_grid`` (the PNG written to ``target``), ``copy_distances`` and ``copy_threshold``
    of a result (read from ``source``) that measured memorization; {} for any other result,
    and, with one warning, when its gallery is unusable: the row keeps its numbers."""
    found = result.get("memorization")
    if not isinstance(found, dict) or not isinstance(found.get("gallery_png"), str):
        return {}
    pairs, threshold = found.get("nearest"), found.get("threshold")
    distances = (
        [p[-1] for p in pairs if isinstance(p, list) and p] if isinstance(pairs, list) else []
    )
    data = _decoded(found["gallery_png"])
    why = "it is not base64" if data is None else png_problem(data)
    if not distances or not all(_number(d) for d in [*distances, threshold]):
        why = "its distances are not numbers"
    if why is not None:
        warn_once(f"the memorization gallery in {source} is left out: {why}", source)
        return {}
    with atomic_write(target) as fh:
        fh.write(data)
    return {
        "copies_grid": os.path.relpath(target, out_dir),
        "copy_distances": " ".join(f"{d:.3g}" for d in distances),
        "copy_threshold": float(threshold),
    }


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _decoded(text: str) -> bytes | None:
    if len(text) > LIMIT * 4 // 3 + 4:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
