"""The run directory: self-describing, so later commands need nothing but its path.

RUN/run.json          model, dataset, spec, hyperparameters, seed, options, versions, git commit
RUN/metrics.jsonl     every logged scalar with its step
RUN/samples/          step-XXXXXXXX.png grids from one fixed noise
RUN/checkpoints/      step-XXXXXXXX.pt (the last K)
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from ..atomic import atomic_write
from ..errors import GanzooError
from .checkpoint import CheckpointError, choose_checkpoint, load_checkpoint
from .checkpoint import list_checkpoints as _list_in_directory

RUN_FILE = "run.json"
#: What must match for an existing run directory to be resumed exactly.
RESUME_KEYS = ("model", "dataset", "split", "hyperparameters", "seed", "batch_size", "ema")


def default_run_dir(model: str, dataset: str, name: str | None = None) -> Path:
    stamp = name or datetime.now().strftime("%Y%m%d-%H%M%S")
    safe_dataset = dataset.replace(":", "-").replace("/", "_").strip("_-.") or "data"
    return Path("runs") / f"{model}-{safe_dataset}-{stamp}"


def versions() -> dict[str, str]:
    from .. import __version__

    out = {"ganzoo": __version__, "torch": torch.__version__, "python": platform.python_version()}
    try:
        import torch_fidelity

        out["torch_fidelity"] = torch_fidelity.__version__
    except Exception:  # evaluation extras are optional for training
        pass
    return out


def git_commit() -> str | None:
    """The commit of the working directory's repository, if any (so a run can be traced to code)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def run_identity(model: Any, data: Any, seed: int, batch_size: int, ema: bool) -> dict[str, Any]:
    """What a run *is*: stored in every checkpoint (deterministic, so checkpoints are bitwise
    reproducible) and compared before a run directory is resumed."""
    from .. import config as config_mod
    from .. import plugins

    entry = plugins.registry("register_models").get(model.name)
    return {
        "model": model.name,
        "family": model.family,
        "plugin": entry.plugin if entry is not None else None,
        "dataset": data.name,
        "split": data.split,
        "spec": data.spec.as_dict(),
        "hyperparameters": config_mod.to_dict(model.config),
        "seed": seed,
        "batch_size": batch_size,
        "ema": ema,
    }


def check_resumable(run_dir: Path, identity: dict[str, Any]) -> None:
    """Refuse to continue a run directory that holds a different run."""
    existing = read_run_info(run_dir)
    if existing is None:
        return
    different = [k for k in RESUME_KEYS if existing.get(k) != identity.get(k)]
    if different:
        details = "; ".join(
            f"{k}: {existing.get(k)!r} there, {identity.get(k)!r} now" for k in different
        )
        raise GanzooError(
            f"{run_dir} holds a different run ({details}); choose another output directory"
        )


def write_run_info(run_dir: Path, info: dict[str, Any]) -> None:
    with atomic_write(run_dir / RUN_FILE, "w") as fh:
        json.dump(info, fh, indent=2, sort_keys=True)


def read_run_info(run_dir: Path) -> dict[str, Any] | None:
    path = run_dir / RUN_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise GanzooError(
            f"{path} is not valid JSON ({exc}); the run directory is damaged"
        ) from None


def new_run_info(**fields: Any) -> dict[str, Any]:
    return {
        "format": 1,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": versions(),
        "git_commit": git_commit(),
        "command": " ".join(["ganzoo", *sys.argv[1:]]) if sys.argv else None,
        **fields,
    }


def list_checkpoints(run_dir: str | Path) -> list[tuple[int, Path]]:
    """(step, path) of a run directory's checkpoints, oldest first."""
    return _list_in_directory(Path(run_dir) / "checkpoints")


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


def _checkpoint_of(target: Path, checkpoint: int | None) -> tuple[Path, Path | None, dict]:
    """(checkpoint file, run directory or None, its state) for a run directory or a file."""
    if target.is_file():
        run_dir = target.parent.parent if target.parent.name == "checkpoints" else None
        return target, run_dir, load_checkpoint(target)
    if not target.is_dir():
        raise GanzooError(f"{str(target)!r} is neither a run directory nor a checkpoint file")
    chosen = choose_checkpoint(target / "checkpoints", checkpoint)
    if chosen is None:
        raise GanzooError(f"run directory {str(target)!r} has no checkpoints (train it first)")
    return chosen.path, target, chosen.state


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
    from .ema import apply_shadow

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
    )
