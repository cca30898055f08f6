"""A model folder on a leaderboard: a small run directory that stands for it.

Leaderboards are rebuilt from run directories (``run.json``, ``samples/``,
``eval/``).  A pretrained model has no run directory, and a shipped one lives
in a read-only package, so ``ganzoo eval leaderboard NAME`` keeps one under
``OUT/pretrained/<name>-<sha12>/``: its results are written there and its rows
persist with the board, like a committed board's rows without their runs.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from ..files.read import read_png
from ..files.write import atomic_write, atomic_write_text, make_dirs
from ..load.folder import GRID, read_config
from ..load.target import locate

KEY = "pretrained"


def as_run(target: str | Path, out_dir: str | Path) -> Path:
    """The stand-in run directory of ``target`` (a model folder or a pretrained name)."""
    folder, _ = locate(target)
    config = read_config(folder)
    name = str(config.get("name") or folder.name)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "model"
    run_dir = Path(out_dir) / KEY / f"{safe}-{config['weights_sha256'][:12]}"
    is_path = Path(target).exists()
    info = {
        key: config.get(key)
        for key in ("model", "family", "plugin", "dataset", "split", "spec", "hyperparameters")
        + ("parameters",)
    }
    info[KEY] = {
        "source": str(Path(target).resolve()) if is_path else str(target),
        "name": name,
        "step": int(config.get("step") or 0),
        "ema": bool(config.get("ema")),
        "weights_sha256": config["weights_sha256"],
    }
    make_dirs(run_dir / "eval")
    atomic_write_text(run_dir / "run.json", json.dumps(info, indent=2, sort_keys=True) + "\n")
    _write_progress(run_dir, info[KEY]["step"], config.get("training"))
    grid = run_dir / "samples" / f"step-{info[KEY]['step']:08d}.png"
    if os.path.lexists(folder / GRID) and not grid.is_file():
        # A downloaded folder's samples.png may be a symlink to a secret: only a PNG
        # inside the folder is copied, and its checked bytes, not the path.
        data = read_png(folder / GRID, folder, "sample grid", "the model folder")
        if data is not None:
            with atomic_write(grid) as fh:
                fh.write(data)
    return run_dir


def _write_progress(run_dir: Path, step: int, training: Any) -> None:
    """The training time the export recorded, where a run keeps it (progress.json), so the
    board's training-cost column and figure place the model like the run it came from."""
    seconds = training.get("elapsed_s") if isinstance(training, dict) else None
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        return
    entry = {"elapsed_s": float(seconds), "device": training.get("device")}
    progress = {"step": step, "checkpoints": {str(step): entry}}
    atomic_write_text(run_dir / "progress.json", json.dumps(progress, indent=2) + "\n")


def stands_for(info: dict[str, Any]) -> dict[str, Any] | None:
    """What a stand-in run directory stands for (None for an ordinary run)."""
    return info.get(KEY)
