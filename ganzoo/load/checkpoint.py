"""A model rebuilt from a checkpoint of a run directory, or from a lone checkpoint file.

The checkpoint is picked by ``choose_checkpoint``'s rule and loaded with
``weights_only=True`` (``ganzoo/train/checkpoint.py``, the file format); the
model is rebuilt from the run information stored in the checkpoint itself, so
a lone checkpoint file is enough.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import config as config_mod
from ..data.base import DatasetSpec
from ..errors import GanzooError
from ..model import model_class
from ..train.checkpoint import BEST_FILE, CheckpointError, choose_checkpoint, load_checkpoint
from ..train.ema import apply_shadow
from .loaded import LoadedRun, young_ema
from .target import Target, not_a_target, single_checkpoint


def _checkpoint_of(found: Target, checkpoint: int | str | None) -> tuple[Path, Path | None, dict]:
    """(checkpoint file, run directory or None, its state) of a run directory or a file.

    A file that is not named like a checkpoint is read as one (it may be one, renamed);
    loading it says what it is not.  A folder that is nothing else is a run directory
    without checkpoints.
    """
    target = found.path
    if target.is_file():
        if checkpoint is not None:
            raise single_checkpoint(found)
        run_dir = target.parent.parent if target.parent.name == "checkpoints" else None
        return target, run_dir, load_checkpoint(target)
    if not target.is_dir():
        raise not_a_target(found)
    chosen = choose_checkpoint(target / "checkpoints", checkpoint)
    if chosen is None:
        raise GanzooError(f"run directory {found.given!r} has no checkpoints (train it first)")
    return chosen.path, target, chosen.state


def from_checkpoint(
    found: Target, checkpoint: int | str | None, device: Any, use_ema: bool | None
) -> LoadedRun:
    """Rebuild the model of a checkpoint (EMA weights when present, unless ``use_ema=False``)."""
    path, run_dir, state = _checkpoint_of(found, checkpoint)
    info = state.get("run") or {}
    try:
        cls = model_class(info["model"])
        spec = DatasetSpec(**{**info["spec"], "value_range": tuple(info["spec"]["value_range"])})
        cfg = config_mod.from_dict(cls.Config, info["hyperparameters"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(
            f"checkpoint {str(path)!r} is damaged (its run information is incomplete: "
            f"{type(exc).__name__} {exc})"
        ) from None
    model = cls(cfg, spec)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:
        raise CheckpointError(
            f"checkpoint {str(path)!r} does not fit model {info['model']!r}: "
            f"{str(exc).splitlines()[0]}"
        ) from None
    ema_state = state.get("ema")
    if use_ema and ema_state is None:
        raise GanzooError(f"checkpoint {str(path)!r} has no EMA weights (trained without --ema)")
    ema = ema_state is not None and use_ema is not False
    if ema:
        apply_shadow(model, ema_state["shadow"])
    model.to(device).eval()
    return LoadedRun(
        model=model,
        step=int(state["step"]),
        ema=ema,
        info=info,
        spec=spec,
        dataset=info.get("dataset", ""),
        run_dir=run_dir,
        checkpoint_path=path,
        elapsed_s=state.get("elapsed_s"),
        device=state.get("device"),
        ema_note=young_ema(ema_state, int(state["step"])) if ema else None,
        selected=_selected(path, run_dir),
    )


def _selected(path: Path, run_dir: Path | None) -> str | None:
    """How ``best.pt`` was chosen (progress.json says which metric), or None for a step."""
    if path.name != BEST_FILE:
        return None
    try:
        best = json.loads((path.parent.parent / "progress.json").read_text())["in_loop"]["best"]
        return f"best {best['metric']} of in-loop evaluation"
    except (OSError, ValueError, KeyError, TypeError):
        return "best of in-loop evaluation"
