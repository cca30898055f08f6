"""A model restored from a checkpoint, ready to sample or evaluate: ``ganzoo.load_run``.

The checkpoint is picked by ``choose_checkpoint``'s rule and loaded with
``weights_only=True``; the model is rebuilt from the run information stored in
the checkpoint itself, so a lone checkpoint file is enough.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..errors import GanzooError
from .checkpoint import CheckpointError, choose_checkpoint, load_checkpoint


@dataclass
class LoadedRun:
    """A model restored from a checkpoint, ready to sample or evaluate."""

    model: Any
    step: int
    ema: bool
    info: dict[str, Any]
    spec: Any
    dataset: str
    run_dir: Path | None
    checkpoint_path: Path
    elapsed_s: float | None = None
    device: str | None = None
    #: Set when the EMA weights are still mostly the weights it started from (``young_ema``).
    ema_note: str | None = None


def _checkpoint_of(target: Path, checkpoint: int | None) -> tuple[Path, Path | None, dict]:
    """(checkpoint file, run directory or None, its state) for a run directory or a file."""
    if target.is_file():
        run_dir = target.parent.parent if target.parent.name == "checkpoints" else None
        return target, run_dir, load_checkpoint(target)
    if not target.is_dir():
        raise GanzooError(
            f"{str(target)!r} does not exist; give a run directory, a checkpoint file, a model "
            f"folder or a pretrained name (ganzoo models --pretrained).{_close_names(target)}"
        )
    chosen = choose_checkpoint(target / "checkpoints", checkpoint)
    if chosen is None:
        raise GanzooError(f"run directory {str(target)!r} has no checkpoints (train it first)")
    return chosen.path, target, chosen.state


def _close_names(target: Path) -> str:
    """A mistyped pretrained name gets suggestions."""
    import difflib

    from ..pretrained.registry import pretrained_models

    close = difflib.get_close_matches(str(target), list(pretrained_models()), n=3)
    return f" Did you mean: {', '.join(close)}?" if close else ""


def _load_folder(
    target: str | Path, checkpoint: int | None, device: Any, use_ema: bool | None
) -> LoadedRun:
    """A model folder or pretrained name: one set of weights, no checkpoints to choose from."""
    from ..pretrained.load import load_pretrained

    if checkpoint is not None:
        raise GanzooError("--checkpoint applies to run directories, not to model folders")
    loaded = load_pretrained(target, device)
    if use_ema is not None and use_ema != loaded.ema:
        held = "EMA" if loaded.ema else "raw (non-EMA)"
        raise GanzooError(f"{target} holds {held} weights only; drop --ema/--no-ema")
    return loaded


def load_run(
    target: str | Path,
    checkpoint: int | None = None,
    device: str | torch.device = "cpu",
    use_ema: bool | None = None,
) -> LoadedRun:
    """Rebuild the model of a checkpoint (EMA weights when present, unless ``use_ema=False``)."""
    from .. import config as config_mod
    from ..data.base import DatasetSpec
    from ..model import model_class
    from ..pretrained.registry import names_a_model_folder
    from .ema import apply_shadow

    if names_a_model_folder(target):
        return _load_folder(target, checkpoint, device, use_ema)
    path, run_dir, state = _checkpoint_of(Path(target), checkpoint)
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
    )


def young_ema(ema_state: dict[str, Any], step: int, stale: float = 0.25) -> str | None:
    """Why EMA samples may look untrained, or None: after k averaged steps at decay d, a
    share d**k of the average is still the weights at its start step (untrained at 0)."""
    decay, start = float(ema_state.get("decay", 0.0)), int(ema_state.get("start", 0))
    averaged = step - start
    if averaged <= 0 or not 0 < decay < 1 or decay**averaged < stale:
        return None
    enough = start + math.ceil(math.log(0.05) / math.log(decay))
    return (
        f"the EMA weights have averaged {averaged} steps at decay {decay:g}, so "
        f"{decay**averaged:.0%} of them are still the weights of step {start}"
        f"{' (untrained)' if start == 0 else ''}; samples improve after about {enough} steps, "
        "or use --no-ema for the trained weights"
    )
