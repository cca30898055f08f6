"""Where ganzoo keeps decoded data, reference statistics and converted weights."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """``$GANZOO_CACHE`` (default ``~/.cache/ganzoo``), joined with ``parts``, created."""
    root = os.environ.get("GANZOO_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache"), "ganzoo"
    )
    path = Path(root, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
