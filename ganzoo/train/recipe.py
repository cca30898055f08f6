"""The one recipe for "train model NAME on DATASET into a run directory".

``ganzoo train`` and ``ganzoo zoo`` both call ``train_run``; seeding, model
construction and the run identity (dataset as the user typed it) are decided
here once.  Resumability is checked by ``Trainer.fit`` itself.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..data.registry import load_dataset
from ..model import build_model
from .options import TrainOptions
from .trainer import Trainer, TrainResult


def train_run(
    model: str,
    run_dir: str | Path,
    options: TrainOptions,
    *,
    dataset: str = "mnist5k",
    split: str = "train",
    data_root: str | Path | None = None,
    download: bool = False,
    hyperparameters: Any = None,
    echo: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train (or resume) ``model`` into ``run_dir``; the same arguments give the same checkpoints."""
    data = load_dataset(dataset, split, data_root=data_root, download=download)
    torch.manual_seed(options.seed)  # the initial weights
    built = build_model(model, data.spec, hyperparameters)
    # The dataset as typed (e.g. folder:PATH) is what a later resume must match.
    trainer = Trainer(built, data, options, run_dir=run_dir, run_info={"dataset": dataset})
    if echo is not None:
        echo(
            f"training {model} ({built.num_parameters():,} parameters) on {dataset} "
            f"[{len(data)} images] for {options.steps} steps, batch {trainer.batch_size}, "
            f"device {trainer.device} -> {run_dir}"
        )
    return trainer.fit()
