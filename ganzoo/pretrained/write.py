"""Writing a model folder (``ganzoo export``): the layout ``ganzoo.load.folder`` reads.

A folder is written into a temporary sibling and renamed into place, so an
interrupted export leaves nothing behind.  Writing stays with export, its one
caller; the layout's names and format number belong to the reader, so the
two cannot drift apart.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from ..errors import GanzooError
from ..load.folder import CONFIG, GRID, WEIGHTS


def write_folder(
    out: Path,
    tensors: dict[str, torch.Tensor],
    config: dict[str, Any],
    texts: dict[str, str],
    grid: Path | None,
) -> Path:
    """Write the folder into a temporary sibling, then rename it to ``out`` (which must not exist).

    A destination that cannot be written (read-only, full, not a folder) is one
    line naming it, and the temporary sibling is removed.
    """
    from safetensors.torch import save

    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise GanzooError(f"{str(out)!r} already exists; choose another --out or remove it")
    data = save({k: v.detach().cpu().contiguous() for k, v in tensors.items()})
    config = {**config, "weights_sha256": hashlib.sha256(data).hexdigest()}
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as exc:
        raise _unwritable(out, _existing(out.parent), exc) from None
    try:
        (staging / WEIGHTS).write_bytes(data)
        (staging / CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        for name, text in texts.items():
            (staging / name).write_text(text)
        if grid is not None:
            shutil.copyfile(grid, staging / GRID)
        os.chmod(staging, 0o755)
        os.replace(staging, out)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):
            raise _unwritable(out, out.parent, exc) from None
        raise
    return out


def _unwritable(out: Path, folder: Path, exc: OSError) -> GanzooError:
    why = "it is a file" if folder.exists() and not folder.is_dir() else exc.strerror or exc
    return GanzooError(
        f"cannot write the model folder {str(out)!r} in {str(folder)!r} ({why}); "
        "choose another --out"
    )


def _existing(path: Path) -> Path:
    """The nearest folder of ``path`` that exists: the one that could not be written to."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
