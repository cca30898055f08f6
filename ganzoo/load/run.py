"""``ganzoo.load_run``: whatever a TARGET names, loaded into one ``LoadedRun``.

Sampling, evaluation and export all load through here: ``target.what`` says
what the TARGET is, then a run directory or checkpoint is rebuilt from its
checkpoint (``checkpoint.py``) and a model folder or pretrained name from its
folder (``pretrained.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..errors import GanzooError
from .checkpoint import from_checkpoint
from .loaded import LoadedRun
from .pretrained import load_pretrained
from .target import Target, missing, single_checkpoint, what


def load_run(
    target: str | Path,
    checkpoint: int | str | None = None,
    device: str | torch.device = "cpu",
    use_ema: bool | None = None,
) -> LoadedRun:
    """Rebuild the model of a run directory, a checkpoint, a model folder or a pretrained name
    (EMA weights when present, unless ``use_ema=False``)."""
    return load_target(what(target), checkpoint, device, use_ema)


def load_target(
    found: Target, checkpoint: int | str | None, device: Any, use_ema: bool | None
) -> LoadedRun:
    """``load_run`` of a TARGET already decided (the evaluator decides it first for samples)."""
    if found.kind == "missing":
        raise missing(found)
    if not found.is_model_folder:
        return from_checkpoint(found, checkpoint, device, use_ema)
    if checkpoint is not None:
        raise single_checkpoint(found)
    loaded = load_pretrained(found, device)
    if use_ema is not None and use_ema != loaded.ema:
        held = "EMA" if loaded.ema else "raw (non-EMA)"
        raise GanzooError(f"{found.given} holds {held} weights only; drop --ema/--no-ema")
    return loaded
